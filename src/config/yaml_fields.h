// Strict reading of small YAML configuration files.
//
// Configuration files are untrusted input written by hand, so every mistake must come back as an
// error a user can act on: it names the file, the line and column, and the key, says what was
// expected and what was found, e.g.
//   deploy.yaml:4:9: key "memory": expected an integer >= 4 (MiB), got "lots"
// Unknown keys are errors (with a "did you mean" hint), duplicate keys are errors, a key given in
// both its current and its seed-era spelling ("entity" and "bw2Entity") is an error.
//
// LoadYamlDocument turns text into a YAML::Node, refusing oversized input, aliases (so no
// "billion laughs"), more than one document and absurd node counts, and never throws.
// FieldReader then reads one mapping field by field. Each getter returns the value, or the default
// after recording an error; the caller reads every field, then calls Finish() once for the verdict.
//
// Ownership and threads: a FieldReader keeps a reference-counted copy of the node it reads and
// owns the readers of its nested mappings (Child). It is not thread-safe; use one per parse.
// Nothing here throws: yaml-cpp exceptions are caught inside.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_messages.h"  // QuoteForMessage, ExpectedGot for value parsers
#include "util/duration.h"
#include "util/status.h"

namespace sp {

// Configuration files larger than this are refused before parsing.
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// Documents with more YAML nodes (scalars, lists, mappings) than this are refused.
inline constexpr size_t kMaxYamlNodes = 100'000;

// Parses one YAML document. Empty input gives a null node. Errors (InvalidArgument) look like
// "deploy.yaml:3:5: invalid YAML: end of map not found".
Result<YAML::Node> LoadYamlDocument(std::string_view text, std::string_view file);

// Whether a key must be present.
enum class Need { kOptional, kRequired };

// A key as a file may spell it: its name and, optionally, the seed-era synonym ("bw2Entity").
struct Key {
  constexpr Key(const char* key_name) : name(key_name) {}  // NOLINT: implicit so "memory" is a Key
  constexpr Key(std::string_view key_name, std::string_view seed_alias) : name(key_name), alias(seed_alias) {}
  std::string_view name;
  std::string_view alias;
};

// Inclusive bounds for integers, and the unit named in messages ("MiB").
struct IntRange {
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string_view unit = {};
};

class FieldReader {
 public:
  // Turns a scalar's text into a T, or an error whose message says what was expected (usually
  // made with ExpectedGot). The reader adds the file, line, column and key.
  template <typename T>
  using Parser = std::function<Result<T>(const std::string& text)>;

  // Reads `node`, which must be a mapping; a null node (empty file) reads as an empty mapping.
  // `file` names the file in messages.
  FieldReader(const YAML::Node& node, std::string file);
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  // True when the key is present with a non-null value. Marks the key as known.
  bool Has(Key key);
  // True if the key is written at all, even without a value ("run:").
  bool Present(Key key) const;

  // A key whose value is null ("key:" or "key: ~") counts as absent. An absent optional key
  // yields the default; an absent required key records an error and yields the default.
  std::string String(Key key, Need need, std::string def = {});
  // Plain (unquoted) decimal integer within `range`.
  int64_t Int(Key key, Need need, int64_t def, IntRange range = {});
  // true/false (also the YAML 1.1 words yes/no/on/off that seed-era files may use), unquoted.
  bool Bool(Key key, bool def);
  // A duration such as "500ms", "5s", "1h30m"; a bare number is seconds. Must be >= min.
  Millis Duration(Key key, Need need, Millis def, Millis min = Millis(0));
  // A list of scalars, each read as a string.
  std::vector<std::string> StringList(Key key, Need need);
  // A mapping of scalar keys to scalar values (numbers and booleans become their text). Each
  // entry key is checked with `check_key` when given (its result replaces the key).
  std::map<std::string, std::string> StringMap(Key key, Need need, const Parser<std::string>& check_key = {});

  // A scalar turned into a T by `parse`.
  template <typename T>
  T Parsed(Key key, Need need, T def, const Parser<T>& parse) {
    std::optional<Located> text = ScalarField(key, need, "a single value");
    if (!text) return def;
    Result<T> value = parse(text->text);
    if (!value) {
      FailAt(text->mark, KeyLabel(key), value.error().message());
      return def;
    }
    return std::move(*value);
  }

  // A list of scalars, each turned into a T by `parse`.
  template <typename T>
  std::vector<T> List(Key key, Need need, const Parser<T>& parse) {
    std::vector<T> out;
    std::optional<std::vector<Located>> items = ListField(key, need);
    if (!items) return out;
    for (size_t i = 0; i < items->size(); ++i) {
      Result<T> value = parse((*items)[i].text);
      if (!value) {
        FailAt((*items)[i].mark, ItemLabel(key, i), value.error().message());
        continue;
      }
      out.push_back(std::move(*value));
    }
    return out;
  }

  // The reader of a nested mapping. An absent optional key gives a reader of an empty mapping.
  // The parent owns it, shares its error, and checks its unknown keys in Finish().
  FieldReader& Child(Key key, Need need);

  // Records an error about the key's value (at its line and column), e.g. a rule that spans two
  // fields. No-op when an error is already recorded.
  void Fail(Key key, std::string_view message);

  // The first error about this file (unknown keys first: a misspelt key usually explains the
  // rest), or OK. Call once, after reading every field.
  Status Finish();
  // True while no error has been recorded.
  bool ok() const;

 private:
  struct Entry {
    std::string spelling;  // as written in the file
    YAML::Mark key_mark;
    YAML::Node value;
  };
  struct Located {
    std::string text;
    YAML::Mark mark;
    std::string tag;  // "?" plain, "!" quoted or block, else an explicit tag such as "tag:yaml.org,2002:int"
  };
  struct Errors {
    std::string file;
    Status first;          // first error of any other kind
    Status first_unknown;  // first unknown-key error
  };

  FieldReader(const YAML::Node& node, std::shared_ptr<Errors> errors, std::string prefix, YAML::Mark mark);
  void Index(const YAML::Node& node);
  const Entry* Find(Key key, Need need);
  std::optional<Located> ScalarField(Key key, Need need, std::string_view what);
  std::optional<std::vector<Located>> ListField(Key key, Need need);
  std::optional<Located> Scalar(const YAML::Node& node, const YAML::Mark& fallback, const std::string& label,
                                std::string_view what);
  std::string KeyLabel(Key key) const;
  std::string ItemLabel(Key key, size_t index) const;
  std::string SpelledLabel(const Entry& entry) const;
  std::string OwnLabel() const;  // "key \"restartPolicy\"" for a child, "" at the top
  void FailAt(const YAML::Mark& mark, const std::string& label, std::string_view message);
  void CheckUnknownKeys();

  std::shared_ptr<Errors> errors_;
  std::string prefix_;  // "restartPolicy." for a child, "" at the top
  YAML::Mark mark_;     // where this mapping's key is, for "missing key" errors of a child
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;                      // spellings in file order
  std::vector<std::string> known_;                      // names asked for, in order, for hints
  std::set<std::string> known_set_;                     // names and aliases asked for
  std::vector<std::unique_ptr<FieldReader>> children_;  // owned so Child() references stay valid
};

}  // namespace sp
