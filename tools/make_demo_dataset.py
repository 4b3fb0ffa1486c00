#!/usr/bin/env python3
"""Writes configs/data/demo_msmarco.jsonl: a small synthetic dataset in MS MARCO v1.1's
Microsoft JSONL layout (query, query_id, query_type, answers, wellFormedAnswers, passages with
is_selected/passage_text/url) for the demo and tests. Deterministic: no randomness, no downloads.
A few lines exercise the filters (no answer, passages too short, a malformed line)."""
import json
import os

FACTS = [
    ("what is the boiling point of water at sea level", "100 degrees Celsius", "water",
     "Water boils at 100 degrees Celsius (212 degrees Fahrenheit) at sea level, where the air pressure is one standard atmosphere."),
    ("how long does it take to fly from london to new york", "About 8 hours", "flights",
     "A direct flight from London Heathrow to New York JFK usually takes about 8 hours, while the return leg is often shorter because of the jet stream."),
    ("what is the capital of australia", "Canberra", "australia",
     "Canberra is the capital city of Australia; it was chosen as a compromise between Sydney and Melbourne and purpose-built in the early 20th century."),
    ("how much does a passport renewal cost", "$130 for an adult passport book", "passports",
     "Renewing an adult passport book costs $130 in application fees, and expedited service adds another $60 to the total price."),
    ("what causes the seasons on earth", "The tilt of Earth's axis", "seasons",
     "The seasons are caused by the tilt of Earth's axis, about 23.5 degrees, which changes how directly sunlight strikes each hemisphere over the year."),
    ("when was the eiffel tower built", "Between 1887 and 1889", "eiffel",
     "The Eiffel Tower was built between 1887 and 1889 as the entrance arch for the 1889 World's Fair in Paris, France."),
    ("how many bones are in the human body", "206 bones", "bones",
     "An adult human body has 206 bones, although babies are born with around 270 that fuse together as they grow."),
    ("what is the speed of light", "About 299,792 kilometers per second", "light",
     "Light travels through a vacuum at about 299,792 kilometers per second, a constant that physicists write as c."),
    ("how to convert celsius to fahrenheit", "Multiply by 9/5 and add 32", "temperature",
     "To convert a temperature from Celsius to Fahrenheit, multiply it by 9/5 and then add 32 to the result."),
    ("what is photosynthesis", "The process plants use to turn light into chemical energy", "plants",
     "Photosynthesis is the process plants use to turn light into chemical energy, combining carbon dioxide and water into glucose and releasing oxygen."),
    ("who wrote pride and prejudice", "Jane Austen", "novels",
     "Pride and Prejudice is a novel by Jane Austen, first published in 1813, that follows Elizabeth Bennet and Mr. Darcy."),
    ("what is the average salary of a nurse", "About $77,600 per year", "nursing",
     "Registered nurses in the United States earn an average salary of about $77,600 per year, with pay varying by state and specialty."),
    ("how long should you boil an egg", "9 to 12 minutes for hard-boiled", "cooking",
     "For hard-boiled eggs, cook them in boiling water for 9 to 12 minutes, then cool them in ice water so the shells peel easily."),
    ("what is the tallest mountain in the world", "Mount Everest", "mountains",
     "Mount Everest, on the border of Nepal and Tibet, is the tallest mountain in the world at 8,849 meters above sea level."),
    ("what does dna stand for", "Deoxyribonucleic acid", "biology",
     "DNA stands for deoxyribonucleic acid, the molecule that carries the genetic instructions of living organisms."),
    ("how many calories are in a banana", "About 105 calories", "nutrition",
     "A medium banana contains about 105 calories, most of them from carbohydrates, along with potassium and vitamin B6."),
    ("what is the population of tokyo", "About 14 million people", "tokyo",
     "Tokyo, the capital of Japan, has about 14 million residents in the city proper and more than 37 million in its metropolitan area."),
    ("when did the first moon landing happen", "July 20, 1969", "moon",
     "The first crewed Moon landing happened on July 20, 1969, when Apollo 11 astronauts Neil Armstrong and Buzz Aldrin stepped onto the surface."),
    ("what is a credit score", "A number that rates how likely you are to repay debt", "credit",
     "A credit score is a number, usually between 300 and 850, that rates how likely you are to repay debt based on your credit history."),
    ("how far is the moon from earth", "About 384,400 kilometers", "distance",
     "The Moon orbits Earth at an average distance of about 384,400 kilometers, or roughly 238,900 miles."),
    ("what is the largest ocean", "The Pacific Ocean", "oceans",
     "The Pacific Ocean is the largest and deepest of Earth's oceans, covering about 165 million square kilometers."),
    ("how do vaccines work", "They train the immune system to recognize a germ", "vaccines",
     "Vaccines work by training the immune system to recognize a germ, so the body can fight the real infection quickly later."),
    ("what is the minimum wage in california", "$16 per hour", "wages",
     "The statewide minimum wage in California is $16 per hour for all employers, with some cities setting higher local rates."),
    ("what language is spoken in brazil", "Portuguese", "brazil",
     "Portuguese is the official and most widely spoken language of Brazil, a legacy of the country's colonial history."),
    ("how long is the great wall of china", "About 21,196 kilometers", "wall",
     "A survey found that the Great Wall of China, including all of its branches, is about 21,196 kilometers long."),
    ("what is inflation", "A general rise in prices over time", "economics",
     "Inflation is a general rise in prices over time, which means each unit of currency buys fewer goods and services."),
    ("who painted the mona lisa", "Leonardo da Vinci", "art",
     "The Mona Lisa was painted by Leonardo da Vinci in the early 1500s and now hangs in the Louvre Museum in Paris."),
    ("what is the freezing point of water in fahrenheit", "32 degrees Fahrenheit", "freezing",
     "Pure water freezes at 32 degrees Fahrenheit, which is 0 degrees Celsius, under standard atmospheric pressure."),
]

FILLER = [
    "Many people search for this information when planning trips, studying for exams, or settling a friendly debate.",
    "Sources such as encyclopedias, government agencies, and university websites generally agree on these figures.",
    "Exact values can differ slightly depending on the method of measurement and the year the data was collected.",
    "Experts recommend checking an up-to-date official source before relying on the number for an important decision.",
    "The topic has a long history, and scientists and historians have written about it in books and journals for decades.",
    "Teachers often use this example in classrooms because it connects everyday experience with a simple, memorable fact.",
    "Related questions cover causes, costs, dates, and comparisons with similar places, people, or processes around the world.",
    "In short, the answer above is the one most commonly cited, and it is easy to verify with a quick search online.",
]


def passage(fact_sentence, topic, k):
    body = [fact_sentence] + [FILLER[(k + i) % len(FILLER)] for i in range(3 + k % 4)]
    return f"{' '.join(body)} This overview of {topic} was last reviewed in 2024."


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "data", "demo_msmarco.jsonl")
    lines = []
    for k, (query, answer, topic, fact) in enumerate(FACTS):
        selected = passage(fact, topic, k)
        other = passage(FILLER[k % len(FILLER)], topic, k + 1)
        record = {
            "answers": [answer],
            "passages": {"is_selected": [0, 1], "passage_text": [other, selected],
                         "url": [f"https://example.org/{topic}/a", f"https://example.org/{topic}/b"]},
            "query": query,
            "query_id": 900000 + k,
            "query_type": "DESCRIPTION",
            "wellFormedAnswers": [f"{answer}."] if k % 3 == 0 else [],
        }
        # Microsoft's layout for even rows, the HF export's for odd rows: both are read.
        if k % 2 == 0:
            record["passages"] = [{"is_selected": s, "passage_text": t, "url": u} for s, t, u in
                                  zip(record["passages"]["is_selected"], record["passages"]["passage_text"],
                                      record["passages"]["url"])]
        lines.append(json.dumps(record, ensure_ascii=False))
    # Rows the study's filters drop: no answer, a selected passage that is too short.
    lines.insert(5, json.dumps({"answers": ["No Answer Present."], "passages": [
        {"is_selected": 1, "passage_text": passage(FACTS[0][3], "water", 0), "url": "u"}],
        "query": "unanswerable question", "query_id": 1, "query_type": "DESCRIPTION", "wellFormedAnswers": []}))
    lines.insert(9, json.dumps({"answers": ["short"], "passages": [
        {"is_selected": 1, "passage_text": "Too short to use.", "url": "u"}],
        "query": "short passage", "query_id": 2, "query_type": "DESCRIPTION", "wellFormedAnswers": []}))
    lines.insert(12, '{"query": "truncated line", "passages": [')
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", out, len(lines), "lines")


if __name__ == "__main__":
    main()
