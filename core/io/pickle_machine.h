#pragma once
// The weights-only pickle machine behind read_torch_zip (torch_zip.h): it knows
// only the opcodes and globals that torch.load(weights_only=True) allows, runs
// nothing from the file and builds tensor descriptions over the zip's entries.
// Internal to core/io.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/io/torch_zip.h"

namespace core::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor } kind = Kind::None;
  int64_t i = 0;
  double f = 0;
  std::string s;                // Str; Global: "module.name"
  std::vector<ValuePtr> items;  // Tuple, List; Dict: key, value, key, value...
  int index = -1;               // Storage, Tensor
  int depth = 1;                // nesting, bounded so that nothing recurses deeply
  bool sealed = false;          // placed inside another container: no longer mutable
};

constexpr int kMaxDepth = 64;
constexpr size_t kMaxMemo = 1u << 22;

const char* kind_name(Value::Kind k);

struct Storage {
  DType dtype;
  std::string key;
  const uint8_t* data;
  uint64_t numel;
};

struct Rebuilt {
  PickledTensor t;
  size_t offset = 0;  // of the REDUCE that made it, for messages
};

class Machine {
 public:
  Machine(const uint8_t* pkl, size_t n, std::string label, std::map<std::string, const ZipEntry*> data_entries,
          const uint8_t* file)
      : p_(pkl), n_(n), label_(std::move(label)), entries_(std::move(data_entries)), file_(file) {}

  ValuePtr run();
  std::vector<Rebuilt>& tensors() { return tensors_; }

 private:
  [[noreturn]] void refuse(const std::string& what, size_t at) const {
    throw Error(ErrorCode::PickleRefused,
                label_ + ": refused " + what + " at offset " + std::to_string(at) +
                    " of data.pkl; only tensors and their containers are read from pickled weights, and no code "
                    "in the file is ever run (convert it to safetensors if it holds more)");
  }
  [[noreturn]] void malformed(const std::string& what, size_t at) const {
    throw Error(ErrorCode::BadWeights, label_ + ": malformed data.pkl at offset " + std::to_string(at) + ": " + what);
  }
  const uint8_t* take(size_t k) {
    if (n_ - pos_ < k) malformed("truncated", pos_);
    const uint8_t* r = p_ + pos_;
    pos_ += k;
    return r;
  }
  ValuePtr pop() {
    if (stack_.empty() || (!marks_.empty() && marks_.back() == stack_.size())) malformed("stack underflow", op_at_);
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) malformed("no MARK before this opcode", op_at_);
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> out(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                              std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return out;
  }
  void push(ValuePtr v) {
    if (stack_.size() > (1u << 24)) malformed("stack too deep", op_at_);
    stack_.push_back(std::move(v));
  }
  static ValuePtr make(Value::Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
  }
  ValuePtr make_int(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->i = i;
    return v;
  }
  void adopt(Value& parent, const ValuePtr& child) {
    child->sealed = true;
    parent.depth = std::max(parent.depth, child->depth + 1);
    if (parent.depth > kMaxDepth)
      refuse("containers nested deeper than " + std::to_string(kMaxDepth) + " levels", op_at_);
  }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto t = make(Value::Kind::Tuple);
    for (auto& c : items) adopt(*t, c);
    t->items = std::move(items);
    return t;
  }
  void mutate(Value& container, Value::Kind want, const char* op) {
    if (container.kind != want) refuse(std::string(op) + " on a " + kind_name(container.kind), op_at_);
    if (container.sealed)
      refuse(std::string(op) + " on a container that is already nested (a recursive structure)", op_at_);
  }
  std::string name_hint() const {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
      if ((*it)->kind == Value::Kind::Str) return (*it)->s;
    return {};
  }
  int64_t as_int(const ValuePtr& v, const char* what) const {
    if (v->kind == Value::Kind::Int) return v->i;
    if (v->kind == Value::Kind::Bool) return v->i;
    malformed(std::string(what) + " is a " + kind_name(v->kind) + ", not an int", op_at_);
  }
  std::vector<int64_t> as_ints(const ValuePtr& v, const char* what) const {
    if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List)
      malformed(std::string(what) + " is a " + kind_name(v->kind) + ", not a tuple", op_at_);
    if (v->items.size() > 64) malformed(std::string(what) + " has more than 64 dimensions", op_at_);
    std::vector<int64_t> out;
    for (const auto& x : v->items) out.push_back(as_int(x, what));
    return out;
  }

  // run()'s opcode groups: each handles its own opcodes and returns false for any other.
  bool scalar_op(uint8_t op);
  bool container_op(uint8_t op);
  bool memo_op(uint8_t op);
  bool object_op(uint8_t op);
  [[noreturn]] void refuse_opcode(uint8_t op) const;

  ValuePtr persistent_load(const ValuePtr& pid);
  ValuePtr call(const ValuePtr& fn, const ValuePtr& args, bool newobj);
  ValuePtr rebuild(const std::vector<ValuePtr>& a);

  const uint8_t* p_;
  size_t n_, pos_ = 0, op_at_ = 0;
  std::string label_;
  std::map<std::string, const ZipEntry*> entries_;  // storage key -> data/<key>
  const uint8_t* file_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ValuePtr> memo_;
  std::map<std::string, int> storage_index_;
  std::vector<Storage> storages_;
  std::vector<Rebuilt> tensors_;
};

}  // namespace core::pickle
