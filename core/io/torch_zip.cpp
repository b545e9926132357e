#include "core/io/torch_zip.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/io/pickle_machine.h"

namespace core {

namespace {

using pickle::kind_name;
using pickle::Machine;
using pickle::Rebuilt;
using pickle::Value;

void flatten(const Value& d, const std::string& prefix, std::vector<Rebuilt>& tensors, std::vector<PickledTensor>& out,
             std::set<std::string>& seen, const std::string& label) {
  for (size_t j = 0; j + 1 < d.items.size(); j += 2) {
    const Value& k = *d.items[j];
    const Value& v = *d.items[j + 1];
    if (k.kind != Value::Kind::Str) continue;
    const std::string name = prefix + k.s;
    if (v.kind == Value::Kind::Dict) {
      flatten(v, name + ".", tensors, out, seen, label);
    } else if (v.kind == Value::Kind::Tensor) {
      if (!seen.insert(name).second)
        throw Error(ErrorCode::BadWeights, label + ": tensor '" + name + "' is stored twice");
      PickledTensor t = tensors[static_cast<size_t>(v.index)].t;
      t.name = name;
      out.push_back(std::move(t));
    }
  }
}

}  // namespace

std::vector<PickledTensor> read_torch_zip(const uint8_t* data, size_t size, const std::string& label) {
  const auto entries = read_zip_directory(data, size, label);
  const ZipEntry* pkl = nullptr;
  for (const auto& e : entries) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (pkl) throw Error(ErrorCode::BadWeights, label + ": more than one data.pkl in the zip");
      pkl = &e;
    }
  }
  if (!pkl) throw Error(ErrorCode::BadWeights, label + ": no <folder>/data.pkl in the zip: not a PyTorch checkpoint");
  const std::string folder = pkl->name.substr(0, pkl->name.size() - std::string("data.pkl").size());
  std::map<std::string, const ZipEntry*> storages;
  for (const auto& e : entries) {
    if (e.name == folder + "byteorder") {
      const std::string order(reinterpret_cast<const char*>(data + e.data_offset),
                              static_cast<size_t>(std::min<uint64_t>(e.size, 16)));
      if (order != "little")
        throw Error(ErrorCode::BadWeights, label + ": entry " + e.name + " says the byte order is '" + order +
                                               "'; big-endian checkpoints are not supported (only little-endian)");
    } else if (e.name.compare(0, folder.size() + 5, folder + "data/") == 0) {
      storages[e.name.substr(folder.size() + 5)] = &e;
    }
  }
  Machine m(data + pkl->data_offset, static_cast<size_t>(pkl->size), label, std::move(storages), data);
  auto top = m.run();
  if (top->kind != Value::Kind::Dict)
    throw Error(ErrorCode::PickleRefused,
                label + ": the pickled object is a " + kind_name(top->kind) + ", not a dict of tensors (a state_dict)");
  std::vector<PickledTensor> out;
  std::set<std::string> seen;
  flatten(*top, "", m.tensors(), out, seen, label);
  return out;
}

}  // namespace core
