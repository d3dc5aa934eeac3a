"""Independent PyTorch implementation of DMM, Decision Mamba and DT from docs/spec.md, for parity.

Reads the kit's weights, inputs and results written by export.ts (safetensors, parsed here without the
safetensors package), rebuilds each model from the spec with its own small scan loop, runs the
eval-mode forward, the masked action MSE and its backward, and reports relative errors:
max |torch - kit| / max |torch| per quantity.

Usage: python3 tools/parity/parity.py [--data tools/parity/data] [--device cpu|cuda] [--out FILE.json]
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf8"))
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(raw[8 + n + b : 8 + n + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


# ---------------------------------------------------------------------------------------------- pieces


def linear(x, p, name, bias=True):
    y = x @ p[name + ".weight"].t()
    return y + p[name + ".bias"] if bias else y


def hf_conv1d(x, p, name):  # HF Conv1D: weight [in, out]
    return x @ p[name + ".weight"] + p[name + ".bias"]


def layer_norm(x, p, name):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps=1e-5)


def selective_scan(u, delta, A, B, C, D, z, delta_bias):
    """docs/spec.md §4 forward as a plain loop over L. u, delta, z: [B, d, L]; A: [d, N]; B, C: [B, N, L]."""
    delta = F.softplus(delta + delta_bias[None, :, None])  # threshold 20, as PyTorch's default
    bsz, d, length = u.shape
    h = u.new_zeros(bsz, d, A.shape[1])
    ys = []
    for t in range(length):
        dt = delta[:, :, t, None]  # [B, d, 1]
        h = torch.exp(dt * A) * h + dt * B[:, None, :, t] * u[:, :, t, None]
        ys.append((h * C[:, None, :, t]).sum(-1))
    y = torch.stack(ys, -1) + D[None, :, None] * u
    return y * F.silu(z)


def mamba(u, p, pre, conv):
    """Mamba-1 mixer (docs/spec.md §3.3; stock §5 when conv). u: [B, L, D]."""
    length = u.shape[1]
    xz = u @ p[pre + "in_proj.weight"].t()
    x, z = xz.chunk(2, dim=-1)
    x = x.transpose(1, 2)  # [B, E, L]
    if conv:
        w = p[pre + "conv1d.weight"]
        x = F.conv1d(x, w, p[pre + "conv1d.bias"], padding=w.shape[-1] - 1, groups=w.shape[0])[..., :length]
    x = F.silu(x)
    x_dbl = x.transpose(1, 2) @ p[pre + "x_proj.weight"].t()
    r = p[pre + "dt_proj.weight"].shape[1]
    n = p[pre + "A_log"].shape[1]
    dt_low, Bm, Cm = torch.split(x_dbl, [r, n, n], dim=-1)
    delta = (dt_low @ p[pre + "dt_proj.weight"].t()).transpose(1, 2)
    A = -torch.exp(p[pre + "A_log"])
    y = selective_scan(x, delta, A, Bm.transpose(1, 2), Cm.transpose(1, 2), p[pre + "D"], z.transpose(1, 2), p[pre + "dt_proj.bias"])
    return y.transpose(1, 2) @ p[pre + "out_proj.weight"].t()


def dense_sequence_mixer(u, w, k):
    """docs/spec.md §3.2 as a causal conv1d: kernel[o, c, j] = W[o, j*D + c], left padding k-1."""
    d = u.shape[-1]
    kernel = w.view(d, k, d).permute(0, 2, 1)  # [out, in, k]
    x = F.pad(u.transpose(1, 2), (k - 1, 0))
    return F.conv1d(x, kernel).transpose(1, 2)


def embed(p, inp, timestep):
    r = linear(inp["returns_to_go"], p, "embed_return")
    s = linear(inp["states"], p, "embed_state")
    a = linear(inp["actions"], p, "embed_action")
    if timestep:
        e = p["embed_timestep.weight"][inp["timesteps"].long()]
        r, s, a = r + e, s + e, a + e
    bsz, k, d = s.shape
    x = torch.stack([r, s, a], dim=2).reshape(bsz, 3 * k, d)
    return layer_norm(x, p, "embed_ln")


def head(p, y):
    return torch.tanh(linear(y[:, 1::3], p, "predict_action.0"))


# ---------------------------------------------------------------------------------------------- models


def dmm(p, inp, cfg):
    x = embed(p, inp, False)
    for i in range(cfg["nLayer"]):
        x = x + dense_sequence_mixer(layer_norm(x, p, "model.ln_1"), p[f"model.local_sequence_mixers.{i}.lin.weight"], cfg["windowSize"])
        x = x + mamba(layer_norm(x, p, "model.ln_2"), p, f"model.global_sequence_mixers.{i}.", conv=False)
    return head(p, layer_norm(x, p, "model.ln_f"))


def dmamba(p, inp, cfg):
    x = embed(p, inp, True)
    for i in range(cfg["nLayer"]):
        h = f"transformer.h.{i}."
        x = x + mamba(layer_norm(x, p, h + "norm_mamba"), p, h + "mamba.", conv=True)
        m = F.gelu(linear(layer_norm(x, p, h + "ln_2"), p, h + "mlp_channels.0"))
        x = x + linear(m, p, h + "mlp_channels.2")
    return head(p, layer_norm(x, p, "transformer.ln_f"))


def dt(p, inp, cfg):
    x = embed(p, inp, True)
    bsz, length, d = x.shape
    keep = torch.tril(torch.ones(length, length, dtype=torch.bool, device=x.device))
    pad = (1.0 - inp["mask"].repeat_interleave(3, dim=1)) * -10000.0  # (R, s, a) per step
    nh = cfg["nHead"]
    for i in range(cfg["nLayer"]):
        h = f"transformer.h.{i}."
        q, k, v = hf_conv1d(layer_norm(x, p, h + "ln_1"), p, h + "attn.c_attn").split(d, dim=-1)
        q, k, v = (t.view(bsz, length, nh, d // nh).transpose(1, 2) for t in (q, k, v))
        w = q @ k.transpose(-1, -2) / math.sqrt(d // nh)
        w = torch.where(keep, w, torch.tensor(-10000.0, device=x.device))  # replace, not add
        w = w + pad[:, None, None, :]
        o = (w.softmax(-1) @ v).transpose(1, 2).reshape(bsz, length, d)
        x = x + hf_conv1d(o, p, h + "attn.c_proj")
        m = F.relu(hf_conv1d(layer_norm(x, p, h + "ln_2"), p, h + "mlp.c_fc"))
        x = x + hf_conv1d(m, p, h + "mlp.c_proj")
    return head(p, layer_norm(x, p, "transformer.ln_f"))


MODELS = {"dmm": dmm, "dmamba": dmamba, "dt": dt}


def rel(a, b):
    a = a.detach().double().cpu()
    b = b.detach().double().cpu()
    return float((a - b).abs().max() / max(float(b.abs().max()), 1e-30))


def run(name, data, device):
    weights, meta = load_safetensors(os.path.join(data, f"{name}.weights.safetensors"))
    inputs, imeta = load_safetensors(os.path.join(data, f"{name}.inputs.safetensors"))
    kit, kmeta = load_safetensors(os.path.join(data, f"{name}.kit.safetensors"))
    cfg = json.loads(imeta["config"])
    frozen = set(json.loads(meta.get("frozen", "[]")))
    p = {k: v.to(device).requires_grad_(k not in frozen) for k, v in weights.items()}
    inp = {k: v.to(device) for k, v in inputs.items()}
    for k in ("states", "actions", "returns_to_go"):
        inp[k].requires_grad_(True)
    pred = MODELS[name](p, inp, cfg)
    mask = inp["mask"]
    loss = ((pred - inp["target"]) ** 2 * mask[..., None]).sum() / (mask.sum() * pred.shape[-1])
    loss.backward()
    grad_errs = {k: rel(kit["grad." + k], v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in p.items() if v.requires_grad}
    worst = max(grad_errs, key=grad_errs.get)
    # Parameters whose gradient is identically zero by construction (DT's wte and unused heads).
    zero_ok = all(float(kit["grad." + k].abs().max()) == 0 for k, v in p.items() if v.requires_grad and v.grad is None)
    return {
        "model": name,
        "parameters": sum(v.numel() for k, v in p.items() if k not in frozen),
        "prediction": rel(kit["pred"], pred),
        "loss": rel(kit["loss"], loss.reshape(1)),
        "grad_states": rel(kit["grad_input.states"], inp["states"].grad),
        "grad_actions": rel(kit["grad_input.actions"], inp["actions"].grad),
        "grad_returns_to_go": rel(kit["grad_input.returns_to_go"], inp["returns_to_go"].grad),
        "grad_params_max": grad_errs[worst],
        "grad_params_worst": worst,
        "unused_params_zero_in_kit": zero_ok,
        "device": str(device),
        "kit_backend": kmeta.get("backend", "?"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    # Full float32 on GPUs: no TF32 in matmuls or cuDNN convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = [run(n, args.data, torch.device(args.device)) for n in MODELS]
    cols = ["prediction", "loss", "grad_states", "grad_actions", "grad_returns_to_go", "grad_params_max"]
    print(f"torch {torch.__version__} on {args.device}; relative error max|torch-kit|/max|torch| (float32)")
    print("| model | params | " + " | ".join(cols) + " | worst param grad |")
    print("|---|---|" + "---|" * len(cols) + "---|")
    for r in rows:
        print(f"| {r['model']} | {r['parameters']:,} | " + " | ".join(f"{r[c]:.2e}" for c in cols) + f" | {r['grad_params_worst']} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f, indent=2)
    bad = [r["model"] for r in rows if max(r[c] for c in cols) > 1e-3 or not r["unused_params_zero_in_kit"]]
    if bad:
        print("PARITY FAILED for " + ", ".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
