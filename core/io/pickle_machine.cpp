#include "core/io/pickle_machine.h"

#include <cstdio>
#include <cstring>

#include "core/io/bytes.h"

namespace core::pickle {

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::None:
      return "None";
    case Value::Kind::Bool:
      return "bool";
    case Value::Kind::Int:
      return "int";
    case Value::Kind::Float:
      return "float";
    case Value::Kind::Str:
      return "str";
    case Value::Kind::Tuple:
      return "tuple";
    case Value::Kind::List:
      return "list";
    case Value::Kind::Dict:
      return "dict";
    case Value::Kind::Global:
      return "global";
    case Value::Kind::Storage:
      return "storage";
    case Value::Kind::Tensor:
      return "tensor";
  }
  return "?";
}

namespace {

// torch.load(weights_only=True)'s allow-list, by exact name (never by prefix).
enum class Allowed {
  Container,
  RebuildTensorV2,
  RebuildTensor,
  RebuildParameter,
  RebuildParameterState,
  Parameter,
  Size,
  Storage,
  DType
};

const std::map<std::string, Allowed>& allowed_globals() {
  static const std::map<std::string, Allowed> m = [] {
    std::map<std::string, Allowed> r = {
        {"collections.OrderedDict", Allowed::Container},
        {"torch._utils._rebuild_tensor_v2", Allowed::RebuildTensorV2},
        {"torch._utils._rebuild_tensor", Allowed::RebuildTensor},
        {"torch._utils._rebuild_parameter", Allowed::RebuildParameter},
        {"torch._utils._rebuild_parameter_with_state", Allowed::RebuildParameterState},
        {"torch.nn.parameter.Parameter", Allowed::Parameter},
        {"torch.Size", Allowed::Size},
    };
    for (const char* s : {"DoubleStorage", "FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
                          "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"})
      r[std::string("torch.") + s] = Allowed::Storage;
    for (const char* s :
         {"float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"})
      r[std::string("torch.") + s] = Allowed::DType;
    return r;
  }();
  return m;
}

bool storage_dtype(const std::string& global, DType* out) {
  static const std::map<std::string, DType> m = {
      {"torch.DoubleStorage", DType::F64},    {"torch.FloatStorage", DType::F32}, {"torch.HalfStorage", DType::F16},
      {"torch.BFloat16Storage", DType::BF16}, {"torch.LongStorage", DType::I64},  {"torch.IntStorage", DType::I32},
      {"torch.ShortStorage", DType::I16},     {"torch.CharStorage", DType::I8},   {"torch.ByteStorage", DType::U8},
      {"torch.BoolStorage", DType::BOOL}};
  auto it = m.find(global);
  if (it == m.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace

ValuePtr Machine::persistent_load(const ValuePtr& pid) {
  const auto& it = pid->items;
  if (pid->kind != Value::Kind::Tuple || it.size() != 5 || it[0]->kind != Value::Kind::Str || it[0]->s != "storage")
    refuse("BINPERSID: the persistent id is not a ('storage', ...) tuple, the only kind a weights file holds", op_at_);
  if (it[1]->kind != Value::Kind::Global) refuse("BINPERSID: a storage whose type is not a storage class", op_at_);
  DType dt;
  if (!storage_dtype(it[1]->s, &dt)) refuse("BINPERSID: unsupported storage type " + it[1]->s, op_at_);
  if (it[2]->kind != Value::Kind::Str) malformed("a storage key that is not a string", op_at_);
  const int64_t numel = as_int(it[4], "storage size");
  const std::string& key = it[2]->s;
  auto found = storage_index_.find(key);
  if (found == storage_index_.end()) {
    auto e = entries_.find(key);
    if (e == entries_.end()) malformed("storage '" + key + "' has no data/" + key + " entry in the zip", op_at_);
    const uint64_t item = dtype_size(dt);
    if (numel < 0 || static_cast<uint64_t>(numel) > e->second->size / item)
      malformed("storage '" + key + "' declares " + std::to_string(numel) + " elements of " + dtype_name(dt) +
                    ", more than its " + std::to_string(e->second->size) + " bytes hold",
                op_at_);
    storages_.push_back({dt, key, file_ + e->second->data_offset, static_cast<uint64_t>(numel)});
    found = storage_index_.emplace(key, static_cast<int>(storages_.size() - 1)).first;
  } else {
    const auto& s = storages_[static_cast<size_t>(found->second)];
    if (s.dtype != dt || s.numel != static_cast<uint64_t>(numel))
      malformed("storage '" + key + "' is named twice with different types or sizes", op_at_);
  }
  auto v = make(Value::Kind::Storage);
  v->index = found->second;
  return v;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) and
// _rebuild_tensor(storage, offset, size, stride): a view, checked against its storage.
ValuePtr Machine::rebuild(const std::vector<ValuePtr>& a) {
  const std::string hint = name_hint();
  const std::string who = hint.empty() ? std::string("a tensor") : "'" + hint + "'";
  if (a.size() < 4 || a[0]->kind != Value::Kind::Storage) malformed("rebuilding " + who + ": bad arguments", op_at_);
  const Storage& s = storages_[static_cast<size_t>(a[0]->index)];
  Rebuilt r;
  r.offset = op_at_;
  r.t.dtype = s.dtype;
  r.t.offset = as_int(a[1], "storage offset");
  r.t.shape = as_ints(a[2], "size");
  r.t.stride = as_ints(a[3], "stride");
  r.t.storage = s.data;
  r.t.storage_bytes = s.numel * dtype_size(s.dtype);
  r.t.storage_key = s.key;
  if (r.t.shape.size() != r.t.stride.size())
    malformed("rebuilding " + who + ": size and stride differ in length", op_at_);
  // The last element the view reaches, with overflow-safe arithmetic.
  bool empty = false;
  unsigned __int128 last = 0;
  bool ok = r.t.offset >= 0;
  for (size_t d = 0; d < r.t.shape.size() && ok; ++d) {
    if (r.t.shape[d] < 0 || r.t.stride[d] < 0)
      ok = false;
    else if (r.t.shape[d] == 0)
      empty = true;
    else
      last += static_cast<unsigned __int128>(r.t.shape[d] - 1) * static_cast<uint64_t>(r.t.stride[d]);
  }
  if (ok && !empty) {
    last += static_cast<uint64_t>(r.t.offset);
    ok = last < s.numel;
  }
  if (!ok)
    refuse("REDUCE torch._utils._rebuild_tensor_v2 of " + who +
               ": its offset, size and stride reach past the end of its storage of " + std::to_string(s.numel) +
               " elements",
           op_at_);
  tensors_.push_back(std::move(r));
  auto v = make(Value::Kind::Tensor);
  v->index = static_cast<int>(tensors_.size() - 1);
  return v;
}

ValuePtr Machine::call(const ValuePtr& fn, const ValuePtr& args, bool newobj) {
  const char* op = newobj ? "NEWOBJ" : "REDUCE";
  if (fn->kind != Value::Kind::Global)
    refuse(std::string(op) + " on a " + kind_name(fn->kind) + ", not a global", op_at_);
  if (args->kind != Value::Kind::Tuple) malformed(std::string(op) + " arguments are not a tuple", op_at_);
  const auto& a = args->items;
  const Allowed what = allowed_globals().at(fn->s);
  if (newobj && what != Allowed::Parameter)
    refuse("NEWOBJ of " + fn->s + " (the only class it may build is torch.nn.parameter.Parameter)", op_at_);
  switch (what) {
    case Allowed::Container: {
      auto d = make(Value::Kind::Dict);
      if (a.empty()) return d;
      if (a.size() == 1 && a[0]->kind == Value::Kind::List) {  // OrderedDict([(k, v), ...])
        for (const auto& kv : a[0]->items) {
          if (kv->kind != Value::Kind::Tuple || kv->items.size() != 2)
            malformed("OrderedDict item is not a pair", op_at_);
          d->items.push_back(kv->items[0]);
          d->items.push_back(kv->items[1]);
          adopt(*d, kv);
        }
        return d;
      }
      malformed("OrderedDict with unexpected arguments", op_at_);
    }
    case Allowed::RebuildTensorV2:
    case Allowed::RebuildTensor:
      return rebuild(a);
    case Allowed::RebuildParameter:
    case Allowed::RebuildParameterState:
    case Allowed::Parameter:
      if (a.empty() || a[0]->kind != Value::Kind::Tensor)
        malformed(fn->s + " of something that is not a tensor", op_at_);
      return a[0];
    case Allowed::Size: {
      if (a.size() != 1) malformed("torch.Size with unexpected arguments", op_at_);
      return a[0];
    }
    case Allowed::Storage:
    case Allowed::DType:
      break;
  }
  refuse(std::string(op) + " calling " + fn->s + ", which is a type, not a tensor rebuilder", op_at_);
}

bool Machine::scalar_op(uint8_t op) {
  switch (op) {
    case 'N':
      push(make(Value::Kind::None));
      break;
    case 0x88:
    case 0x89: {  // NEWTRUE, NEWFALSE
      auto v = make(Value::Kind::Bool);
      v->i = op == 0x88;
      push(v);
      break;
    }
    case 'J': {  // BININT
      push(make_int(static_cast<int32_t>(le32(take(4)))));
      break;
    }
    case 'K':
      push(make_int(*take(1)));
      break;  // BININT1
    case 'M':
      push(make_int(le16(take(2))));
      break;      // BININT2
    case 0x8a: {  // LONG1
      const uint8_t k = *take(1);
      if (k > 8) refuse("LONG1 of " + std::to_string(k) + " bytes (larger than 64 bits)", op_at_);
      const uint8_t* b = take(k);
      uint64_t u = 0;
      for (int j = k - 1; j >= 0; --j) u = (u << 8) | b[j];
      if (k > 0 && k < 8 && (b[k - 1] & 0x80)) u |= ~uint64_t{0} << (8 * k);  // sign-extend
      push(make_int(static_cast<int64_t>(u)));
      break;
    }
    case 'G': {  // BINFLOAT, big-endian
      const uint8_t* b = take(8);
      uint64_t u = 0;
      for (int j = 0; j < 8; ++j) u = (u << 8) | b[j];
      auto v = make(Value::Kind::Float);
      std::memcpy(&v->f, &u, 8);
      push(v);
      break;
    }
    case 'X': {  // BINUNICODE
      const uint32_t len = le32(take(4));
      const uint8_t* b = take(len);
      auto v = make(Value::Kind::Str);
      v->s.assign(reinterpret_cast<const char*>(b), len);
      push(v);
      break;
    }
    default:
      return false;
  }
  return true;
}

bool Machine::container_op(uint8_t op) {
  switch (op) {
    case '(':
      marks_.push_back(stack_.size());
      break;  // MARK
    case ')':
      push(make(Value::Kind::Tuple));
      break;  // EMPTY_TUPLE
    case ']':
      push(make(Value::Kind::List));
      break;  // EMPTY_LIST
    case '}':
      push(make(Value::Kind::Dict));
      break;  // EMPTY_DICT
    case 't':
      push(tuple(pop_mark()));
      break;  // TUPLE
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      std::vector<ValuePtr> items(static_cast<size_t>(op - 0x84));
      for (size_t j = items.size(); j-- > 0;) items[j] = pop();
      push(tuple(std::move(items)));
      break;
    }
    case 'a': {  // APPEND
      auto v = pop();
      auto l = pop();
      mutate(*l, Value::Kind::List, "APPEND");
      adopt(*l, v);
      l->items.push_back(v);
      push(l);
      break;
    }
    case 'e': {  // APPENDS
      auto items = pop_mark();
      auto l = pop();
      mutate(*l, Value::Kind::List, "APPENDS");
      for (auto& v : items) {
        adopt(*l, v);
        l->items.push_back(std::move(v));
      }
      push(l);
      break;
    }
    case 's': {  // SETITEM
      auto v = pop();
      auto k = pop();
      auto d = pop();
      mutate(*d, Value::Kind::Dict, "SETITEM");
      adopt(*d, k);
      adopt(*d, v);
      d->items.push_back(k);
      d->items.push_back(v);
      push(d);
      break;
    }
    case 'u': {  // SETITEMS
      auto items = pop_mark();
      if (items.size() % 2) malformed("SETITEMS with an odd number of values", op_at_);
      auto d = pop();
      mutate(*d, Value::Kind::Dict, "SETITEMS");
      for (auto& v : items) {
        adopt(*d, v);
        d->items.push_back(std::move(v));
      }
      push(d);
      break;
    }
    default:
      return false;
  }
  return true;
}

bool Machine::memo_op(uint8_t op) {
  switch (op) {
    case 'h':
    case 'j': {  // BINGET, LONG_BINGET
      const uint32_t k = op == 'h' ? *take(1) : le32(take(4));
      auto it = memo_.find(k);
      if (it == memo_.end()) malformed("memo entry " + std::to_string(k) + " was never stored", op_at_);
      push(it->second);
      break;
    }
    case 'q':
    case 'r': {  // BINPUT, LONG_BINPUT
      const uint32_t k = op == 'q' ? *take(1) : le32(take(4));
      if (stack_.empty()) malformed("BINPUT on an empty stack", op_at_);
      if (memo_.size() >= kMaxMemo && !memo_.count(k)) malformed("memo too large", op_at_);
      memo_[k] = stack_.back();
      break;
    }
    default:
      return false;
  }
  return true;
}

bool Machine::object_op(uint8_t op) {
  switch (op) {
    case 'c': {  // GLOBAL "module\nname\n"
      std::string parts[2];
      for (auto& part : parts) {
        const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(p_ + pos_, '\n', std::min<size_t>(n_ - pos_, 256)));
        if (!nl) malformed("GLOBAL without a newline-terminated name", op_at_);
        part.assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(nl - (p_ + pos_)));
        pos_ = static_cast<size_t>(nl - p_) + 1;
      }
      const std::string name = parts[0] + "." + parts[1];
      if (!allowed_globals().count(name)) refuse("GLOBAL " + name + ": not an allowed global", op_at_);
      auto v = make(Value::Kind::Global);
      v->s = name;
      push(v);
      break;
    }
    case 'R': {  // REDUCE
      auto args = pop();
      auto fn = pop();
      push(call(fn, args, false));
      break;
    }
    case 0x81: {  // NEWOBJ
      auto args = pop();
      auto cls = pop();
      push(call(cls, args, true));
      break;
    }
    case 'b': {  // BUILD: state on OrderedDicts (a state_dict's _metadata) and tensors is ignored
      auto state = pop();
      auto obj = pop();
      if (obj->kind != Value::Kind::Dict && obj->kind != Value::Kind::Tensor)
        refuse(std::string("BUILD on a ") + kind_name(obj->kind) + " (only tensors and OrderedDicts take state)",
               op_at_);
      push(obj);
      break;
    }
    case 'Q': {  // BINPERSID
      auto pid = pop();
      push(persistent_load(pid));
      break;
    }
    default:
      return false;
  }
  return true;
}

void Machine::refuse_opcode(uint8_t op) const {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", op);
  refuse(std::string("opcode ") + hex +
             (op >= 0x20 && op < 0x7f ? std::string(" '") + static_cast<char>(op) + "'" : "") +
             " (outside what weights-only loading allows)",
         op_at_);
}

ValuePtr Machine::run() {
  while (true) {
    op_at_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = *take(1);
        if (v > 2) refuse("pickle protocol " + std::to_string(v) + " (torch.save writes protocol 2)", op_at_);
        break;
      }
      case '.': {  // STOP
        if (stack_.size() != 1 || !marks_.empty())
          malformed("STOP with " + std::to_string(stack_.size()) + " values left", op_at_);
        return stack_.back();
      }
      default:
        if (!scalar_op(op) && !container_op(op) && !memo_op(op) && !object_op(op)) refuse_opcode(op);
    }
  }
}

}  // namespace core::pickle
