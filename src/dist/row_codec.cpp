// Little-endian, length-prefixed encoding of SampleRow lists.
#include "dkv/dist/row_codec.h"

#include <cstring>

#include "dkv/core/error.h"

namespace dkv::dist {

namespace {

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    out_ += s;
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    pod<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  template <typename T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string str() {
    const auto n = pod<uint64_t>();
    need(n);
    std::string s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> vec() {
    const auto n = pod<uint64_t>();
    need(n * sizeof(T));
    std::vector<T> v(n);
    std::memcpy(v.data(), in_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return v;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  void need(uint64_t n) const {
    DKV_CHECK(at_ + n <= in_.size(), "truncated MPI row message");
  }
  const std::string& in_;
  size_t at_ = 0;
};

}  // namespace

std::string encode_rows(const std::vector<std::pair<int64_t, io::SampleRow>>& rows) {
  Writer w;
  w.pod<uint64_t>(rows.size());
  for (const auto& [index, r] : rows) {
    w.pod<int64_t>(index);
    w.pod<uint8_t>(r.done);
    for (const auto* s : {&r.query_id, &r.query, &r.passage, &r.answer, &r.surrogate, &r.random_prefix, &r.error,
                          &r.exclusion})
      w.str(*s);
    w.pod<uint64_t>(r.named_surrogates.size());
    for (const auto& s : r.named_surrogates) w.str(s);
    w.pod(r.source_line);
    w.pod(r.similarity);
    w.pod(r.seconds);
    w.vec(r.nll);
    w.vec(r.first_token_nll);
    w.vec(r.answer_tokens);
    w.vec(r.flags);
  }
  return w.take();
}

std::vector<std::pair<int64_t, io::SampleRow>> decode_rows(const std::string& bytes) {
  Reader r(bytes);
  std::vector<std::pair<int64_t, io::SampleRow>> out(r.pod<uint64_t>());
  for (auto& [index, row] : out) {
    index = r.pod<int64_t>();
    row.done = r.pod<uint8_t>() != 0;
    for (auto* s : {&row.query_id, &row.query, &row.passage, &row.answer, &row.surrogate, &row.random_prefix, &row.error,
                    &row.exclusion})
      *s = r.str();
    row.named_surrogates.resize(r.pod<uint64_t>());
    for (auto& s : row.named_surrogates) s = r.str();
    row.source_line = r.pod<int64_t>();
    row.similarity = r.pod<double>();
    row.seconds = r.pod<double>();
    row.nll = r.vec<double>();
    row.first_token_nll = r.vec<double>();
    row.answer_tokens = r.vec<int32_t>();
    row.flags = r.vec<uint32_t>();
  }
  DKV_CHECK(r.done(), "trailing bytes in an MPI row message");
  return out;
}

std::string encode_indices(const std::vector<int64_t>& v) {
  Writer w;
  w.vec(v);
  return w.take();
}

std::vector<int64_t> decode_indices(const std::string& bytes) {
  Reader r(bytes);
  auto v = r.vec<int64_t>();
  DKV_CHECK(r.done(), "trailing bytes in an MPI work message");
  return v;
}

}  // namespace dkv::dist
