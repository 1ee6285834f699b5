// The decompressed tar stream of an image layer (or oci-archive), read once and hashed on the way.
//
// A layer blob is gzip, zstd or plain tar; which one is decided from its magic bytes, and only that
// decompressor runs (anything else is refused, and so is data compressed twice). A Decoder yields
// the decompressed stream: zlib for gzip (libarchive 3.6's gzip filter checks neither the CRC32 nor
// the length in a member's trailer, so corruption that still inflates would pass), libarchive's zstd
// filter in "raw" format for zstd (libzstd verifies frame checksums when the frame has one), plain
// reads otherwise. Every block is hashed (SHA-256, for the diff_id) and counted, then handed through
// a read callback to a libarchive reader that understands only tar formats. After the tar's
// end-of-archive marker, Finish() drains and hashes whatever the stream still holds, so the digest
// covers the whole stream (and corruption in the trailing part is still found).
//
// Tars that stop right after the last entry's data, without its padding to 512 bytes and the
// end-of-archive blocks (Debian's umoci 0.4.7 `insert` writes them so; podman and umoci read them),
// are accepted: when the stream ends exactly where the current entry's data ends, the reader is fed
// the missing zero bytes. They are not hashed, so the diff_id stays that of the real stream. A
// stream that ends anywhere else (inside a header or inside file data) is still refused as
// truncated.
//
// The decompressed size is bounded against what the entries so far account for (declared file data
// plus a header allowance per entry), so a decompression bomb hidden in headers, skipped data or
// trailing padding is refused long before it costs much.
//
// A TarStream owns its file descriptor and readers. Not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "archive/archive_rules.h"
#include "registry/digest.h"
#include "util/fd.h"
#include "util/status.h"

struct archive;
struct archive_entry;

namespace sp::layer_internal {

enum class Compression { kNone, kGzip, kZstd };

// "gzip", "zstd", "none".
std::string_view CompressionName(Compression c);

// Decides the compression from the first bytes of a blob (at least 512 bytes are needed to recognise
// a plain tar). InvalidArgument naming what was found for anything that is not gzip, zstd or tar.
Result<Compression> DetectCompression(std::string_view head);

// Yields a blob's decompressed bytes, block by block.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // The next block (valid until the next call); empty at the end of the stream. InvalidArgument for
  // corrupt or truncated data.
  virtual Result<std::string_view> Next() = 0;
};

// The decoder for `compression` reading `fd` from its start; `what` names the blob in errors. The
// descriptor must outlive the decoder.
Result<std::unique_ptr<Decoder>> MakeDecoder(Compression compression, int fd, const std::string& what);

class TarStream {
 public:
  // Opens the blob at `path` and reads up to the first tar header. `what` names it in errors.
  static Result<std::unique_ptr<TarStream>> Open(const std::string& path, const std::string& what);
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;
  ~TarStream();

  Compression compression() const { return compression_; }

  // The next entry, or nullptr after the end of the archive. The entry stays valid until the next
  // call. Each entry counts towards the decompression budget's header allowance.
  Result<struct archive_entry*> Next();

  // Calls `extract` with each entry in turn (Next() until the end of the archive), stopping at the
  // first error.
  Status ForEachEntry(const std::function<Status(struct archive_entry* entry)>& extract);

  // Declares that the current entry carries `bytes` of file data (raises the decompression budget).
  void AddDeclaredBytes(uint64_t bytes) { declared_bytes_ += bytes; }

  // Copies the data of the current entry (a regular file of `size` bytes, possibly sparse) into
  // `fd` at the offsets the archive gives; holes stay holes. `shown` names the entry in errors.
  Status CopyData(int fd, int64_t size, const std::string& shown);

  // After Next() returned nullptr: reads and hashes the rest of the decompressed stream and returns
  // the SHA-256 of all of it. The stream cannot be used afterwards.
  Result<Digest> Finish();

 private:
  TarStream() = default;
  static ssize_t ReadCallback(struct archive* inner, void* client, const void** buf);
  Status OpenReader(const std::string& path);
  // Pulls the next decompressed block from the decoder, hashing and counting it. Sets `eof_` at the
  // end.
  Status Fetch();
  // The stream's own failure (decompression, budget) if there was one, else `fallback`.
  Status Failure(Status fallback) const { return failure_.ok() ? fallback : failure_; }
  uint64_t Budget() const;

  std::string what_;
  Compression compression_ = Compression::kNone;
  Fd fd_;
  std::unique_ptr<Decoder> decoder_;
  archive_internal::ArchiveReader inner_;
  Sha256Hasher hasher_;
  const char* pending_ = nullptr;
  size_t pending_size_ = 0;
  bool eof_ = false;
  uint64_t decompressed_ = 0;
  uint64_t declared_bytes_ = 0;
  uint64_t entries_ = 0;
  uint64_t data_end_ = 0;        // stream offset where the current entry's data ends
  uint64_t synthetic_left_ = 0;  // zero bytes still to feed after a missing trailer
  bool synthetic_started_ = false;
  Status failure_;
};

}  // namespace sp::layer_internal
