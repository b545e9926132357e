#!/usr/bin/env python3
"""Writes the seeds of fuzz/corpus/fuzz_torch_zip: small PyTorch zip checkpoints
as torch.save lays them out (stored entries, <folder>/data.pkl, data/<key>,
byteorder), with pickles assembled opcode by opcode, so no torch is needed.
Run once from the source root: python3 fuzz/make_torch_zip_seeds.py"""
import struct, zlib, os

def zip_stored(entries):
    out, central = b"", b""
    for name, data in entries:
        n = name.encode()
        crc = zlib.crc32(data)
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(n), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                               len(n), 0, 0, 0, 0, 0, len(out)) + n
        out += local + n + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return out + central + end

def s(x):
    b = x.encode()
    return b"X" + struct.pack("<I", len(b)) + b

def glob(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"

def ints(*v):
    return b"(" + b"".join(b"K" + bytes([i]) for i in v) + b"t"

def tensor(key, storage, numel, offset, size, stride, param=False):
    t = (glob("torch._utils", "_rebuild_tensor_v2") + b"(" +
         b"(" + s("storage") + glob("torch", storage) + s(key) + s("cpu") + b"K" + bytes([numel]) + b"tQ" +
         b"K" + bytes([offset]) + ints(*size) + ints(*stride) + b"\x89" + glob("collections", "OrderedDict") + b")R" +
         b"tR")
    if param:
        t = glob("torch._utils", "_rebuild_parameter") + b"(" + t + b"\x88" + glob("collections", "OrderedDict") + b")RtR"
    return t

def state_dict(items, build=False):
    p = b"\x80\x02" + glob("collections", "OrderedDict") + b")Rq\x00(" + b"".join(s(k) + v for k, v in items) + b"u"
    if build:
        p += b"}(" + s("_metadata") + glob("collections", "OrderedDict") + b")Ru" + b"b"
    return p + b"."

def checkpoint(pkl, storages, folder="archive", order=b"little"):
    entries = [(folder + "/data.pkl", pkl), (folder + "/byteorder", order)]
    entries += [(f"{folder}/data/{k}", v) for k, v in storages.items()]
    entries.append((folder + "/version", b"3\n"))
    return zip_stored(entries)

floats = struct.pack("<12f", *range(12))
halves = struct.pack("<6H", *range(0x3C00, 0x3C06))
seeds = {
    "good_two_tensors.bin": checkpoint(state_dict([
        ("a.weight", tensor("0", "FloatStorage", 12, 0, (3, 4), (4, 1))),
        ("a.bias", tensor("0", "FloatStorage", 12, 2, (2,), (3,), param=True))]), {"0": floats}),
    "good_views_build.bin": checkpoint(state_dict([
        ("t", tensor("0", "FloatStorage", 12, 1, (4, 2), (1, 4))),
        ("h", tensor("1", "HalfStorage", 6, 0, (6,), (1,)))], build=True), {"0": floats, "1": halves}, folder="pytorch_model"),
    "refused_global.bin": checkpoint(b"\x80\x02" + glob("posix", "system") + b"(" + s("true") + b"tR.", {}),
    "refused_persid.bin": checkpoint(b"\x80\x02(" + s("exec") + s("x") + b"tQ.", {}),
    "big_endian.bin": checkpoint(state_dict([]), {}, order=b"big"),
    "legacy.bin": b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.",
}
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_torch_zip")
os.makedirs(here, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
