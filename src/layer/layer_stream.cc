// Compression detection and the hashed, budgeted decompressed tar stream of a layer blob.
#include "layer/layer_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "layer/layer_fs.h"

namespace sp::layer_internal {
namespace {

using archive_internal::ArchiveError;
using archive_internal::DescribeBytes;

constexpr size_t kTarBlock = 512;
constexpr size_t kChunk = 64 * 1024;             // largest piece handed to the tar reader at once
constexpr uint64_t kHeaderAllowance = 16 << 10;  // tar/pax headers and padding, per entry
constexpr uint64_t kStreamSlack = 16 << 20;      // read-ahead, end-of-archive blocks, trailing padding

bool HasPrefix(std::string_view head, std::string_view magic) {
  return head.size() >= magic.size() && head.substr(0, magic.size()) == magic;
}

// A tar header block whose checksum field matches its contents (as unsigned or, as some old tars
// computed it, signed bytes), or an all-zero block (an empty archive).
bool LooksLikeTarHeader(std::string_view block) {
  if (block.size() < kTarBlock) return false;
  if (std::all_of(block.begin(), block.begin() + kTarBlock, [](char c) { return c == '\0'; })) return true;
  uint64_t stored = 0;
  bool digits = false;
  for (size_t i = 148; i < 156; ++i) {
    char c = block[i];
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<uint64_t>(c - '0');
      digits = true;
    } else if (digits || (c != ' ' && c != '\0')) {
      break;
    }
  }
  if (!digits) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) {
    bool in_field = i >= 148 && i < 156;
    unsigned_sum += in_field ? ' ' : static_cast<unsigned char>(block[i]);
    signed_sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return stored == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

Result<Compression> DetectCompression(std::string_view head) {
  if (HasPrefix(head, "\x1f\x8b")) return Compression::kGzip;
  if (HasPrefix(head, "\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (LooksLikeTarHeader(head)) return Compression::kNone;
  struct Known {
    std::string_view magic, name;
  };
  static constexpr Known kOthers[] = {{"BZh", "bzip2"},
                                      {"\xfd"
                                       "7zXZ",
                                       "xz"},
                                      {"\x04\x22\x4d\x18", "lz4"},
                                      {"PK\x03\x04", "zip"},
                                      {"7z\xbc\xaf", "7z"}};
  std::string found = "unrecognised data";
  for (const auto& k : kOthers) {
    if (HasPrefix(head, k.magic)) found = std::string(k.name) + "-compressed data";
  }
  if (head.size() < kTarBlock && found == "unrecognised data") {
    found = "only " + std::to_string(head.size()) + " bytes, too short for a tar archive";
  }
  return Err(Status::InvalidArgument(found + "; layers must be gzip- or zstd-compressed or plain tar"));
}

namespace {

// An uncompressed tar: the file as it is.
class PlainDecoder : public Decoder {
 public:
  PlainDecoder(int fd, std::string what) : fd_(fd), what_(std::move(what)), buf_(kChunk, '\0') {}
  Result<std::string_view> Next() override {
    for (;;) {
      ssize_t n = ::read(fd_, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Err(Status::FromErrno("read " + what_, errno));
      return std::string_view(buf_.data(), static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string what_;
  std::string buf_;
};

// gzip with zlib: one or more members, each checked against its CRC32 and length; anything after
// the last member that is not another member is refused (as Go's gzip reader, which most image
// tools use, does).
class GzipDecoder : public Decoder {
 public:
  GzipDecoder(int fd, std::string what)
      : fd_(fd), what_(std::move(what)), in_(kChunk, '\0'), out_(kChunk, '\0') {}
  ~GzipDecoder() override {
    if (initialised_) inflateEnd(&zs_);
  }
  Status Init() {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) return Status::Internal("inflateInit2 failed");
    initialised_ = true;
    return Status::Ok();
  }
  Result<std::string_view> Next() override;

 private:
  // Keeps the unread input and appends more from the file; sets `input_eof_` at its end.
  Status Refill();
  Status Corrupt(const std::string& why) const {
    return Status::InvalidArgument("corrupt or truncated gzip data in " + what_ + ": " + why);
  }

  int fd_;
  std::string what_;
  std::string in_, out_;
  z_stream zs_{};
  bool initialised_ = false;
  bool input_eof_ = false;
  bool member_done_ = false;
  bool finished_ = false;
};

Status GzipDecoder::Refill() {
  size_t keep = zs_.avail_in;
  if (keep > 0 && zs_.next_in != reinterpret_cast<Bytef*>(in_.data())) {
    std::memmove(in_.data(), zs_.next_in, keep);
  }
  for (;;) {
    ssize_t n = ::read(fd_, in_.data() + keep, in_.size() - keep);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read " + what_, errno);
    if (n == 0) input_eof_ = true;
    zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
    zs_.avail_in = static_cast<uInt>(keep + static_cast<size_t>(n));
    return Status::Ok();
  }
}

Result<std::string_view> GzipDecoder::Next() {
  while (!finished_) {
    if (zs_.avail_in < 2 && !input_eof_) SP_RETURN_IF_ERROR(Refill());
    if (member_done_) {
      if (zs_.avail_in == 0) {
        finished_ = true;
        break;
      }
      if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b) {
        return Err(Corrupt("data after the end of the gzip stream"));
      }
      inflateReset(&zs_);
      member_done_ = false;
    }
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    int r = inflate(&zs_, Z_NO_FLUSH);
    size_t produced = out_.size() - zs_.avail_out;
    if (r == Z_STREAM_END) {
      member_done_ = true;
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      return Err(Corrupt(zs_.msg ? zs_.msg : "inflate error " + std::to_string(r)));
    } else if (produced == 0 && zs_.avail_in == 0 && input_eof_) {
      return Err(Corrupt("the stream ends in the middle of a member"));
    }
    if (produced > 0) return std::string_view(out_.data(), produced);
  }
  return std::string_view();
}

// zstd through libarchive's filter, read in "raw" format.
class ZstdDecoder : public Decoder {
 public:
  ZstdDecoder(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  Status Init();
  Result<std::string_view> Next() override;

 private:
  int fd_;
  std::string what_;
  archive_internal::ArchiveReader reader_;
};

Status ZstdDecoder::Init() {
  reader_.reset(archive_read_new());
  if (!reader_) return Status::Internal("archive_read_new: out of memory");
  if (archive_read_support_filter_zstd(reader_.get()) != ARCHIVE_OK) {  // WARN: an external program
    return Status::Internal("this libarchive has no built-in zstd decompressor");
  }
  archive_read_support_format_raw(reader_.get());
  struct archive_entry* entry = nullptr;
  if (archive_read_open_fd(reader_.get(), fd_, kChunk) != ARCHIVE_OK ||
      archive_read_next_header(reader_.get(), &entry) < ARCHIVE_WARN) {
    return Status::InvalidArgument("corrupt zstd data in " + what_ + ": " +
                                   ArchiveError(reader_.get(), "unreadable"));
  }
  // libarchive tries its filters again on what one produced: zstd inside zstd would be unpacked
  // twice. A layer is compressed once (filter 0 zstd, filter 1 the file itself).
  if (archive_filter_code(reader_.get(), 0) != ARCHIVE_FILTER_ZSTD ||
      archive_filter_count(reader_.get()) != 2) {
    return Status::InvalidArgument(what_ + " is not a single zstd-compressed stream");
  }
  return Status::Ok();
}

Result<std::string_view> ZstdDecoder::Next() {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(reader_.get(), &block, &size, &offset);
  if (r == ARCHIVE_EOF) return std::string_view();
  if (r < ARCHIVE_WARN) {
    return Err(Status::InvalidArgument("corrupt or truncated zstd data in " + what_ + ": " +
                                       ArchiveError(reader_.get(), "decompression failed")));
  }
  return std::string_view(static_cast<const char*>(block), size);
}

}  // namespace

Result<std::unique_ptr<Decoder>> MakeDecoder(Compression compression, int fd, const std::string& what) {
  switch (compression) {
    case Compression::kGzip: {
      auto d = std::make_unique<GzipDecoder>(fd, what);
      SP_RETURN_IF_ERROR(d->Init());
      return std::unique_ptr<Decoder>(std::move(d));
    }
    case Compression::kZstd: {
      auto d = std::make_unique<ZstdDecoder>(fd, what);
      SP_RETURN_IF_ERROR(d->Init());
      return std::unique_ptr<Decoder>(std::move(d));
    }
    case Compression::kNone:
      break;
  }
  return std::unique_ptr<Decoder>(std::make_unique<PlainDecoder>(fd, what));
}

Result<std::unique_ptr<TarStream>> TarStream::Open(const std::string& path, const std::string& what) {
  std::unique_ptr<TarStream> s(new TarStream());
  s->what_ = what + " " + path;
  s->fd_ = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!s->fd_.valid()) return Err(Status::FromErrno("open " + s->what_, errno));
  struct stat st;
  if (::fstat(s->fd_.get(), &st) != 0) return Err(Status::FromErrno("stat " + s->what_, errno));
  if (!S_ISREG(st.st_mode)) return Err(Status::InvalidArgument(s->what_ + " is not a regular file"));
  char head[kTarBlock];
  ssize_t n = ::pread(s->fd_.get(), head, sizeof head, 0);
  if (n < 0) return Err(Status::FromErrno("read " + s->what_, errno));
  auto compression = DetectCompression(std::string_view(head, static_cast<size_t>(n)));
  if (!compression) return Err(compression.error().Annotate(s->what_));
  s->compression_ = *compression;
  SP_ASSIGN_OR_RETURN(s->decoder_, MakeDecoder(s->compression_, s->fd_.get(), s->what_));
  SP_RETURN_IF_ERROR(s->OpenReader(path));
  return s;
}

TarStream::~TarStream() = default;

Status TarStream::OpenReader(const std::string& path) {
  inner_.reset(archive_read_new());
  if (!inner_) return Status::Internal("archive_read_new: out of memory");
  archive_read_support_format_tar(inner_.get());
  if (archive_read_open(inner_.get(), this, nullptr, &TarStream::ReadCallback, nullptr) != ARCHIVE_OK) {
    return Failure(Status::InvalidArgument(
        what_ + ": the " + (compression_ == Compression::kNone ? "" : "decompressed ") +
        "data is not a tar archive: " + ArchiveError(inner_.get(), "unrecognised format")));
  }
  return Status::Ok();
}

uint64_t TarStream::Budget() const { return declared_bytes_ + entries_ * kHeaderAllowance + kStreamSlack; }

Status TarStream::Fetch() {
  auto block = decoder_->Next();
  if (!block) {
    failure_ = block.error();
    return failure_;
  }
  if (block->empty()) {
    eof_ = true;
    pending_size_ = 0;
    return Status::Ok();
  }
  hasher_.Update(block->data(), block->size());
  decompressed_ += block->size();
  if (decompressed_ > Budget()) {
    failure_ = Status::InvalidArgument(
        what_ + " decompresses to far more data (" + DescribeBytes(decompressed_) + ") than its " +
        std::to_string(entries_) + " entries and " + DescribeBytes(declared_bytes_) +
        " of file data account for; refusing it as a likely decompression bomb");
    return failure_;
  }
  pending_ = block->data();
  pending_size_ = block->size();
  return Status::Ok();
}

ssize_t TarStream::ReadCallback(struct archive* inner, void* client, const void** buf) {
  auto* s = static_cast<TarStream*>(client);
  while (s->pending_size_ == 0 && !s->eof_) {
    Status fetched = s->Fetch();
    if (!fetched.ok()) {
      archive_set_error(inner, EINVAL, "%s", fetched.message().c_str());
      return -1;
    }
  }
  if (s->pending_size_ == 0 && s->eof_) {
    // The stream ended. Right after the current entry's data, only the padding and the
    // end-of-archive blocks are missing: supply them (see the header). Anywhere else: truncated.
    if (!s->synthetic_started_ && s->entries_ > 0 && s->decompressed_ == s->data_end_ && s->decompressed_ % 512 != 0) {
      s->synthetic_started_ = true;
      s->synthetic_left_ = (512 - s->decompressed_ % 512) + 1024;
    }
    static const char kZeros[1536] = {};
    size_t n = std::min<uint64_t>(s->synthetic_left_, sizeof kZeros);
    s->synthetic_left_ -= n;
    *buf = kZeros;
    return static_cast<ssize_t>(n);
  }
  size_t n = std::min(s->pending_size_, kChunk);
  *buf = s->pending_;
  s->pending_ += n;
  s->pending_size_ -= n;
  return static_cast<ssize_t>(n);
}

Result<struct archive_entry*> TarStream::Next() {
  struct archive_entry* entry = nullptr;
  int r = archive_read_next_header(inner_.get(), &entry);
  if (r == ARCHIVE_EOF) return nullptr;
  if (r < ARCHIVE_WARN) {
    return Err(Failure(Status::InvalidArgument(
        "corrupt or truncated tar data in " + what_ + " after " + std::to_string(entries_) +
        " entries: " + ArchiveError(inner_.get(), "unreadable header"))));
  }
  ++entries_;
  // Where this entry's data ends in the stream: libarchive has consumed the header(s) by now.
  int64_t data_start = archive_filter_bytes(inner_.get(), 0);
  data_end_ = data_start >= 0 && archive_entry_size_is_set(entry) && archive_entry_size(entry) >= 0
                  ? static_cast<uint64_t>(data_start) + static_cast<uint64_t>(archive_entry_size(entry))
                  : 0;
  return entry;
}

Status TarStream::ForEachEntry(const std::function<Status(struct archive_entry* entry)>& extract) {
  for (;;) {
    SP_ASSIGN_OR_RETURN(struct archive_entry * entry, Next());
    if (!entry) return Status::Ok();
    SP_RETURN_IF_ERROR(extract(entry));
  }
}

Status TarStream::CopyData(int fd, int64_t size, const std::string& shown) {
  for (;;) {
    const void* buf = nullptr;
    size_t n = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(inner_.get(), &buf, &n, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Failure(Status::InvalidArgument("read the data of entry " + ShowPath(shown) + ": " +
                                             ArchiveError(inner_.get(), "corrupt data")));
    }
    if (offset < 0 || n > static_cast<uint64_t>(size) || offset > size - static_cast<int64_t>(n)) {
      return Status::InvalidArgument("entry " + ShowPath(shown) + " has data beyond its declared size of " +
                                     std::to_string(size) + " bytes");
    }
    const char* p = static_cast<const char*>(buf);
    for (size_t done = 0; done < n;) {
      ssize_t w = ::pwrite(fd, p + done, n - done, offset + static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Status::FromErrno("write " + ShowPath(shown), errno);
      done += static_cast<size_t>(w);
    }
  }
  if (::ftruncate(fd, size) != 0) return Status::FromErrno("set the size of " + ShowPath(shown), errno);
  return Status::Ok();
}

Result<Digest> TarStream::Finish() {
  while (!eof_) {
    pending_size_ = 0;
    SP_RETURN_IF_ERROR(Fetch());
  }
  inner_.reset();
  decoder_.reset();
  return hasher_.Finish();
}

}  // namespace sp::layer_internal
