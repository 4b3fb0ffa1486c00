#!/usr/bin/python3
"""Golden values for bitsandbytes-compatible NF4 (and LLM.int8 row-wise) weight quantization.

Regenerate:  tools/setup-python.sh && .venv/bin/python tools/gen_nf4_golden.py [--wheel PATH]
Without --wheel it runs `pip download --no-deps bitsandbytes==0.50.2` into build/bnb-wheel/.

The numbers come from bitsandbytes' own code, not from a re-implementation: bitsandbytes 0.50.2
needs torch>=2.4 and cannot be imported on Debian's torch 1.13, so this script reads the Python
sources straight out of the wheel at run time (nothing of it is copied into this repository),
takes the pure functions it needs (functional.quantize_4bit / dequantize_4bit /
quantize_blockwise / dequantize_blockwise / QuantState.as_dict / create_dynamic_map,
utils.pack_dict_to_tensor, and the "default" pure-torch kernels of backends/default/ops.py,
which are what bitsandbytes itself runs for quantize_4bit on CPU) and executes them unchanged,
with torch.ops.bitsandbytes.<op>.default bound to those default kernels (and one int32 index
buffer widened to int64, which torch 1.13 needs for indexing).

Not the native CPU library: bitsandbytes on CPU quantizes the 8-bit absmax code through a
65536-entry lookup table (csrc/cpu_ops.cpp), which is off by one code now and then; CUDA and the
default kernels pick the nearest code, and that is what these goldens hold.

CUDA is what produces most published checkpoints, so every case is also run through a small
numpy model of the CUDA kernels (dQuantizeNF4 decision tree; dQuantize binary search for the
8-bit absmax code) and the number of codes where the two disagree is recorded; the only
expected disagreement is an all-zero block (CUDA: 0*inf = NaN falls to code 0; default: code 7).

Writes tests/golden/nf4_golden.json (schema in the "schema" key of the file itself).
"""
import argparse
import ast
import glob
import json
import os
import subprocess
import sys
import types
import zipfile

import numpy as np
import torch

BNB_VERSION = "0.50.2"
SEED = 20240612
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "golden", "nf4_golden.json")

# What we take from each file of the wheel; kernels are the @register_kernel(..., "default") ones.
PICK = {
    "bitsandbytes/utils.py": ["pack_dict_to_tensor", "unpack_tensor_to_dict"],
    "bitsandbytes/backends/utils.py": ["_code_4bit_cache", "_get_4bit_code"],
    "bitsandbytes/backends/default/ops.py": [
        "_try_torch_compile", "_dequantize_blockwise_compute", "_get_4bit_quantize_bounds",
        "_dequantize_4bit_compute"],
    "bitsandbytes/_ops.py": [],
    "bitsandbytes/functional.py": [
        "name2qmap", "create_normal_map", "create_dynamic_map", "QuantState", "quantize_blockwise",
        "dequantize_blockwise", "get_4bit_type", "quantize_4bit", "dequantize_4bit",
        "int8_vectorwise_quant", "int8_vectorwise_dequant"],
}
KERNELS = ["quantize_blockwise", "dequantize_blockwise", "quantize_4bit", "dequantize_4bit",
           "int8_vectorwise_quant", "int8_vectorwise_dequant"]


def find_wheel(path):
    if path:
        return path
    cache = os.path.join(ROOT, "build", "bnb-wheel")
    found = glob.glob(os.path.join(cache, f"bitsandbytes-{BNB_VERSION}-*.whl"))
    if not found:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               f"bitsandbytes=={BNB_VERSION}", "-d", cache])
        found = glob.glob(os.path.join(cache, f"bitsandbytes-{BNB_VERSION}-*.whl"))
    return found[0]


def default_kernel_op(node):
    """'quantize_4bit' for a def decorated @register_kernel("bitsandbytes::quantize_4bit", "default")."""
    for d in node.decorator_list:
        if (isinstance(d, ast.Call) and getattr(d.func, "id", None) == "register_kernel"
                and [getattr(a, "value", None) for a in d.args][1:] == ["default"]):
            return d.args[0].value.split("::")[1]
    return None


def load_bnb(wheel):
    """Executes the picked bitsandbytes definitions on this torch; returns their namespace."""
    ops = types.SimpleNamespace()

    class TorchWithBnbOps:  # the picked code calls torch.ops.bitsandbytes.<op>.default(...)
        def __getattr__(self, name):
            if name == "ops":
                return types.SimpleNamespace(bitsandbytes=ops)
            # torch 1.13 cannot index with int32 tensors; the picked code's only int32 tensor is
            # the 4-bit index buffer of _dequantize_4bit_compute (values 0..15), so widen it.
            return torch.int64 if name == "int32" else getattr(torch, name)

    from collections.abc import Sequence
    from functools import cache, wraps
    from math import prod, sqrt
    from typing import Any, Optional
    import itertools
    ns = dict(torch=TorchWithBnbOps(), Tensor=torch.Tensor, np=np, json=json, itertools=itertools,
              Sequence=Sequence, cache=cache, wraps=wraps, prod=prod, sqrt=sqrt, Any=Any,
              Optional=Optional)
    with zipfile.ZipFile(wheel) as z:
        for path, names in PICK.items():
            body = []
            for node in ast.parse(z.read(path).decode()).body:
                op = default_kernel_op(node) if isinstance(node, ast.FunctionDef) else None
                if op in KERNELS:
                    node.decorator_list = [d for d in node.decorator_list
                                           if not (isinstance(d, ast.Call) and getattr(d.func, "id", None) == "register_kernel")]
                    node.name = "_kernel_" + op
                    body.append(node)
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
                    body.append(node)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                        getattr(t, "id", None) in names
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])):
                    body.append(node)
            exec(compile(ast.Module(body=body, type_ignores=[]), f"{wheel}!{path}", "exec"), ns)
    for op in KERNELS:
        setattr(ops, op, types.SimpleNamespace(default=ns["_kernel_" + op]))
    # backends/utils._get_4bit_code does `from bitsandbytes.functional import get_4bit_type`.
    sys.modules["bitsandbytes"] = types.ModuleType("bitsandbytes")
    sys.modules["bitsandbytes.functional"] = types.SimpleNamespace(get_4bit_type=ns["get_4bit_type"])
    return ns


# ---- numpy model of the CUDA kernels (csrc/kernels.cu), for the cross-check only ----------------

def cuda_scale(x, absmax):
    # kQuantizeBlockwise: x * (1.0f / absmax), float32, no clamp (exact reciprocal assumed here;
    # the real build uses --use_fast_math).
    with np.errstate(divide="ignore", invalid="ignore"):
        return x.astype(np.float32) * (np.float32(1) / absmax.astype(np.float32))


def cuda_nf4_codes(flat, blocksize, code):
    n = flat.size
    blocks = -(-n // blocksize)
    am = np.array([np.abs(flat[b * blocksize:(b + 1) * blocksize]).max() for b in range(blocks)], np.float32)
    scaled = cuda_scale(flat, np.repeat(am, blocksize)[:n])
    # dQuantizeNF4: thresholds are midpoints of the table (computed in double, stored as float),
    # `x > t` goes up, so a tie goes to the lower code, and NaN (0 * inf) falls through to 0b0000.
    thr = ((code.astype(np.float64)[:-1] + code.astype(np.float64)[1:]) / 2).astype(np.float32)
    q = np.where(np.isnan(scaled), 0, (scaled[:, None] > thr[None, :]).sum(1))
    return q.astype(np.uint8), am


def cuda_dquantize(code, x):
    # dQuantize<0>: 7-step binary search over the 256 sorted codes, then nearest of 3 neighbours.
    pivot, lo_p, up_p, lower, upper = 127, 0, 255, np.float32(-1), np.float32(1)
    val = code[pivot]
    for i in (64, 32, 16, 8, 4, 2, 1):
        if x > val:
            lo_p, lower, pivot = pivot, val, pivot + i
        else:
            up_p, upper, pivot = pivot, val, pivot - i
        val = code[pivot]
    if up_p == 255:
        upper = code[255]
    if lo_p == 0:
        lower = code[0]
    if x > val:
        return up_p if x > (upper + val) * np.float32(0.5) else pivot
    return lo_p if x < (lower + val) * np.float32(0.5) else pivot


def cuda_blockwise8_codes(flat, blocksize, code):
    out = []
    for b in range(0, flat.size, blocksize):
        blk = flat[b:b + blocksize].astype(np.float32)
        s = cuda_scale(blk, np.full(blk.size, np.abs(blk).max(), np.float32))
        out += [cuda_dquantize(code, v) for v in s]
    return np.array(out, np.uint8)


# ---- JSON helpers ------------------------------------------------------------------------------

def f32(values):
    """float32 values as the shortest decimals that a double parse + cast to float gives back."""
    out = []
    for v in np.asarray(values, np.float32).reshape(-1):
        s = np.format_float_positional(v, unique=True, trim="-") if v == 0 or 1e-4 < abs(v) < 1e6 \
            else np.format_float_scientific(v, unique=True, trim="-")
        d = float(s)
        assert np.float32(d) == v and np.signbit(np.float32(d)) == np.signbit(v), (v, s)
        out.append(d)
    return out


def u8(t):
    return [int(x) for x in t.reshape(-1).tolist()]


def tensor_entry(t, with_values=True):
    e = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
    if with_values:
        e["values"] = u8(t) if t.dtype == torch.uint8 else f32(t.float().numpy())
    return e


# ---- cases -------------------------------------------------------------------------------------

def weights_f32_37x71(rng, bounds):
    w = (rng.standard_normal(37 * 71) * 0.02).astype(np.float32)
    # Block 0: absmax 0.5 (a power of two, so x * (1/absmax) is exact) and all 15 NF4 midpoints
    # exactly: every one is a tie, which bitsandbytes (and the CUDA tree) sends to the lower code.
    w[0] = 0.5
    w[1:16] = bounds * np.float32(0.5)
    w[16], w[17], w[18] = -0.5, 0.0, -0.0
    w[64 + 10] = 3.0                 # block 1: a large outlier, everything else rounds to code 7
    w[128 + 5] = -0.75               # block 2: absmax from a negative value -> code 0
    w[[200, 777, 1500, 2600]] = 0.0  # scattered exact zeros
    return w.reshape(37, 71)         # 2627 values: 41 blocks, the last of 3; odd count pads a nibble


def weights_bf16_128x64(rng):
    w = torch.from_numpy((rng.standard_normal(128 * 64) * 0.02).astype(np.float32)).reshape(128, 64)
    w[5] = 0.0                       # one all-zero block (the one place CUDA and default differ)
    w[9, 3], w[70, 0], w[127, 63] = 0.25, -0.3, 0.2
    return w.to(torch.bfloat16)      # 128 blocks: a single, partial nested block of 256


RECIPE = ("LCG from s = recipe_seed: s = s*1664525 + 1013904223 (mod 2^32); each value is "
          "k = (sum of 4 successive draws of s >> 24) - 510, w = k * 2^-13 (exact float32)")


def weights_f32_97x200(seed=12345):
    # 19400 values: 304 blocks (the last of 8) and 2 nested blocks (256 + 48). Too many to store,
    # so the C++ test rebuilds them by RECIPE (roughly normal, sd 0.018).
    s, ks = seed, []
    for _ in range(97 * 200):
        k = 0
        for _ in range(4):
            s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
            k += s >> 24
        ks.append(k - 510)
    return (torch.tensor(ks, dtype=torch.float32) * 2.0 ** -13).reshape(97, 200)


def run_case(bnb, w, store_weight, sample=None):
    dyn = bnb["create_dynamic_map"]().numpy()
    nf4 = bnb["get_4bit_type"]("nf4", device="cpu").numpy()
    packed, st_plain = bnb["quantize_4bit"](w, blocksize=64, compress_statistics=False, quant_type="nf4")
    packed2, st_nest = bnb["quantize_4bit"](w, blocksize=64, compress_statistics=True, quant_type="nf4")
    assert torch.equal(packed, packed2)  # the 4-bit codes do not depend on compress_statistics
    dq_plain = bnb["dequantize_4bit"](packed, st_plain, quant_type="nf4")
    dq_nest = bnb["dequantize_4bit"](packed, st_nest, quant_type="nf4")
    absmax_nest = bnb["dequantize_blockwise"](st_nest.absmax, st_nest.state2) + st_nest.offset

    # Cross-check against the model of the CUDA kernels.
    flat = w.float().reshape(-1).numpy()
    q_cuda, am_cuda = cuda_nf4_codes(flat, 64, nf4)
    q_bnb = np.stack([packed.reshape(-1).numpy() >> 4, packed.reshape(-1).numpy() & 15], 1).reshape(-1)
    q_cuda = np.concatenate([q_cuda, [7] * (flat.size % 2)])  # CUDA pads with a loaded 0.0 -> code 7
    qabs_cuda = cuda_blockwise8_codes((st_plain.absmax - st_nest.offset).numpy(), 256, dyn)
    assert np.array_equal(am_cuda, st_plain.absmax.numpy())

    pick = (lambda t: t.reshape(-1)) if sample is None else (lambda t: t.reshape(-1)[sample])
    case = {
        "shape": list(w.shape), "dtype": str(w.dtype).replace("torch.", ""), "blocksize": 64,
        "packed": u8(packed), "packed_shape": list(packed.shape),
        "absmax": f32(st_plain.absmax.numpy()),
        "dequant_plain": f32(pick(dq_plain.float()).numpy()),
        "nested": {
            "offset": f32([st_nest.offset.item()])[0],
            "qabsmax": u8(st_nest.absmax),
            "nested_absmax": f32(st_nest.state2.absmax.numpy()),
            "nested_blocksize": st_nest.state2.blocksize,
            "absmax_dequant": f32(absmax_nest.numpy()),
            "dequant": f32(pick(dq_nest.float()).numpy()),
        },
        "cuda_model_mismatches": {"nf4_codes": int((q_cuda != q_bnb).sum()),
                                  "qabsmax": int((qabs_cuda != st_nest.absmax.numpy()).sum())},
    }
    if store_weight and w.dtype == torch.bfloat16:  # raw bits: 5 digits instead of 12
        case["weight_bf16_bits"] = [x & 0xFFFF for x in w.view(torch.int16).reshape(-1).tolist()]
    elif store_weight:
        case["weight"] = f32(w.float().numpy())
    if sample is not None:
        case["dequant_sample_index"] = sample.tolist()
    return case, st_nest, packed


def serialized(bnb, st, packed, prefix):
    """What Linear4bit._save_to_state_dict adds: prefix+'weight' and QuantState.as_dict(packed=True)."""
    tensors = {prefix + "weight": tensor_entry(packed, with_values=False)}
    for k, v in st.as_dict(packed=True).items():
        e = tensor_entry(v, with_values=k.startswith("quant_state") or v.numel() <= 256)
        if k.startswith("quant_state"):
            e["text"] = bytes(u8(v)).decode("utf-8")
            e["decoded"] = bnb["unpack_tensor_to_dict"](v)
        tensors[prefix + "weight." + k] = e
    return tensors


def int8_case(bnb, rng):
    # Linear8bitLt quantizes the fp16 weight row-wise: CB = round(w * 127 / absmax_row), SCB =
    # absmax_row. (An all-zero row gives 0 * inf = NaN before the int8 cast; bnb never guards it.)
    w = torch.from_numpy((rng.standard_normal((5, 10)) * 0.02).astype(np.float32)).half()
    w[2, 4] = 0.0625  # an outlier sets its row's absmax
    cb, scb, _ = bnb["int8_vectorwise_quant"](w.clone())
    deq = bnb["int8_vectorwise_dequant"](cb, scb)
    return {"shape": [5, 10], "dtype": "float16", "weight": f32(w.float().numpy()),
            "CB": [int(x) for x in cb.reshape(-1).tolist()], "SCB": f32(scb.numpy()),
            "dequant": f32(deq.numpy()), "dequant_factor": f32([7.874015718698502e-3])[0]}


SCHEMA = {
    "nf4_code": "16 float32 NF4 values, index = 4-bit code (get_4bit_type('nf4'))",
    "nf4_bounds": "15 float32 midpoints (code[i]+code[i+1])/2; code = #bounds < x (ties go low)",
    "dynamic_code": "256 float32 values of create_dynamic_map(signed=True), the nested absmax code",
    "cases.<name>.weight": "input, flattened row-major; bf16 input as weight_bf16_bits (uint16 "
                           "patterns); f32_97x200 stores none: see its 'recipe'",
    "cases.<name>.packed": "uint8 bytes, packed_shape [(n+1)//2, 1]; byte j = code[2j] << 4 | code[2j+1]",
    "cases.<name>.absmax": "float32 per 64-block absmax (compress_statistics=False state)",
    "cases.<name>.dequant_plain": "dequantize_4bit with the float32 absmax, in the input dtype",
    "cases.<name>.nested": "compress_statistics=True: offset (mean of absmax), qabsmax (uint8 per "
                           "64-block), nested_absmax (float32 per 256 qabsmax), absmax_dequant "
                           "(dynamic_code[q]*nested_absmax[i//256] + offset), dequant",
    "cases.<name>.dequant_sample_index": "when present, dequant arrays hold only these flat indices",
    "cases.<name>.dtype": "input dtype = QuantState.dtype = dequant output dtype (values stored as float32)",
    "cases.<name>.cuda_model_mismatches": "codes where a numpy model of the CUDA kernels differs",
    "serialized": "state-dict entries of one Linear4bit (bf16_128x64, nested): dtype, shape, values "
                  "(omitted for the packed weight = cases.bf16_128x64.packed), quant_state JSON text",
    "int8": "LLM.int8 row-wise: CB int8 (row-major), SCB float32 per row, dequant = CB*SCB*factor",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", help="a bitsandbytes-%s wheel (default: pip download it)" % BNB_VERSION)
    wheel = find_wheel(ap.parse_args().wheel)
    bnb = load_bnb(wheel)
    rng = np.random.default_rng(SEED)

    nf4 = bnb["get_4bit_type"]("nf4", device="cpu")
    bounds, _ = bnb["_get_4bit_quantize_bounds"]("nf4", torch.device("cpu"))
    # The hard-coded table is create_normal_map()'s first/last 8 non-padding values.
    nm = bnb["create_normal_map"]()
    assert torch.allclose(torch.cat([nm[:8], nm[-8:]]), nf4, atol=1e-7, rtol=0)

    cases, w_big = {}, weights_f32_97x200()
    cases["f32_37x71"], _, _ = run_case(bnb, torch.from_numpy(weights_f32_37x71(rng, bounds.numpy())), True)
    n = 128 * 64  # dequant of the bf16 case: every 7th value, rows 5 and 9, the last row
    sample = np.unique(np.concatenate([np.arange(0, n, 7), np.arange(5 * 64, 6 * 64),
                                       np.arange(9 * 64, 10 * 64), np.arange(n - 64, n)]))
    cases["bf16_128x64"], st, packed = run_case(bnb, weights_bf16_128x64(rng), True, sample)
    sample = np.unique(np.concatenate([np.arange(0, w_big.numel(), 61), np.arange(w_big.numel() - 10, w_big.numel())]))
    cases["f32_97x200"], _, _ = run_case(bnb, w_big, False, sample)
    cases["f32_97x200"]["recipe"] = RECIPE
    cases["f32_97x200"]["recipe_seed"] = 12345
    cases["f32_97x200"]["weight_head"] = f32(w_big.reshape(-1)[:8].numpy())

    golden = {
        "generator": "tools/gen_nf4_golden.py",
        "bitsandbytes": BNB_VERSION,
        "bitsandbytes_code": "functional.py + backends/default/ops.py (pure-torch kernels), CPU",
        "torch": torch.__version__,
        "schema": SCHEMA,
        "nf4_code": f32(nf4.numpy()),
        "nf4_bounds": f32(bounds.numpy()),
        "dynamic_code": f32(bnb["create_dynamic_map"]().numpy()),
        "cases": cases,
        "serialized": {"prefix": "model.layers.0.mlp.down_proj.", "case": "bf16_128x64",
                       "tensors": serialized(bnb, st, packed, "model.layers.0.mlp.down_proj.")},
        "int8": int8_case(bnb, rng),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes) from {os.path.basename(wheel)}")
    for name, c in cases.items():
        print(name, "cuda model mismatches:", c["cuda_model_mismatches"])


if __name__ == "__main__":
    main()
