// SQLite-backed Store. Statements are prepared per call (the daemon writes a
// few rows per state change; simplicity beats a statement cache here).
#include "store/store.h"

#include <sqlite3.h>

#include <variant>

namespace sp {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS services (
  name TEXT PRIMARY KEY,
  config_yaml TEXT NOT NULL,
  config_file TEXT NOT NULL,
  state TEXT NOT NULL,
  instance INTEGER NOT NULL,
  restarts INTEGER NOT NULL,
  fast_failures INTEGER NOT NULL,
  monitor_pid INTEGER NOT NULL,
  container_pid INTEGER NOT NULL,
  address TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  next_start_ms INTEGER NOT NULL,
  has_exit INTEGER NOT NULL,
  exit_code INTEGER NOT NULL,
  exit_signal INTEGER NOT NULL,
  exit_oom INTEGER NOT NULL,
  exit_ms INTEGER NOT NULL,
  log_segment INTEGER NOT NULL,
  log_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_service ON events(service, id);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// RAII prepared statement with typed binders.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok() : Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(st_); }
  Status Run() {
    int rc = Step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
    return Status::Ok();
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(st_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t Int(int col) { return sqlite3_column_int64(st_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

// One column of the services table and the ServiceRecord field it holds. This table is the only
// place that pairs them: the column list, the upsert, its binds and the reads all follow its order.
struct ServiceColumn {
  const char* name;
  std::variant<std::string ServiceRecord::*, int64_t ServiceRecord::*, bool ServiceRecord::*> field;
  bool put_updates = true;  // false for the key and for the log position, which SetLogPosition owns
};

const ServiceColumn kServiceColumns[] = {
    {"name", &ServiceRecord::name, false},
    {"config_yaml", &ServiceRecord::config_yaml},
    {"config_file", &ServiceRecord::config_file},
    {"state", &ServiceRecord::state},
    {"instance", &ServiceRecord::instance},
    {"restarts", &ServiceRecord::restarts},
    {"fast_failures", &ServiceRecord::fast_failures},
    {"monitor_pid", &ServiceRecord::monitor_pid},
    {"container_pid", &ServiceRecord::container_pid},
    {"address", &ServiceRecord::address},
    {"created_ms", &ServiceRecord::created_ms},
    {"started_ms", &ServiceRecord::started_ms},
    {"next_start_ms", &ServiceRecord::next_start_ms},
    {"has_exit", &ServiceRecord::has_exit},
    {"exit_code", &ServiceRecord::exit_code},
    {"exit_signal", &ServiceRecord::exit_signal},
    {"exit_oom", &ServiceRecord::exit_oom},
    {"exit_ms", &ServiceRecord::exit_ms},
    {"log_segment", &ServiceRecord::log_segment, false},
    {"log_offset", &ServiceRecord::log_offset, false},
};

// "name, config_yaml, ..., log_offset"
std::string ServiceColumnList() {
  std::string out;
  for (const ServiceColumn& c : kServiceColumns) out += std::string(out.empty() ? "" : ", ") + c.name;
  return out;
}

// Inserts a whole record, or updates every column but the key and the log position.
std::string UpsertServiceSql() {
  std::string params, updates;
  for (const ServiceColumn& c : kServiceColumns) {
    params += params.empty() ? "?" : ",?";
    if (c.put_updates) updates += std::string(updates.empty() ? "" : ", ") + c.name + "=excluded." + c.name;
  }
  return "INSERT INTO services (" + ServiceColumnList() + ") VALUES (" + params +
         ") ON CONFLICT(name) DO UPDATE SET " + updates;
}

int64_t Stored(bool v) { return v ? 1 : 0; }
int64_t Stored(int64_t v) { return v; }
const std::string& Stored(const std::string& v) { return v; }

void Load(Stmt& s, int col, std::string& out) { out = s.Text(col); }
void Load(Stmt& s, int col, int64_t& out) { out = s.Int(col); }
void Load(Stmt& s, int col, bool& out) { out = s.Int(col) != 0; }

// Binds every field of `r` to parameters 1..n, in column order.
void BindService(Stmt& s, const ServiceRecord& r) {
  int param = 1;
  for (const ServiceColumn& c : kServiceColumns)
    std::visit([&](auto field) { s.Bind(param++, Stored(r.*field)); }, c.field);
}

// The record in the current row of a SELECT of ServiceColumnList().
ServiceRecord ReadService(Stmt& s) {
  ServiceRecord r;
  int col = 0;
  for (const ServiceColumn& c : kServiceColumns)
    std::visit([&](auto field) { Load(s, col++, r.*field); }, c.field);
  return r;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  std::unique_ptr<Store> store(new Store());
  if (sqlite3_open_v2(path.c_str(), &store->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = store->db_ ? sqlite3_errmsg(store->db_) : "out of memory";
    return Err(Status::Unavailable("open state database " + path + ": " + msg));
  }
  sqlite3_busy_timeout(store->db_, 5000);
  SP_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  SP_RETURN_IF_ERROR(store->Exec(kSchema));
  return store;
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Status Store::PutLocked(const ServiceRecord& r) {
  static const std::string kUpsert = UpsertServiceSql();
  Stmt s(db_, kUpsert.c_str());
  SP_RETURN_IF_ERROR(s.status());
  BindService(s, r);
  return s.Run();
}

Status Store::AppendEventLocked(const EventRecord& e) {
  Stmt s(db_, "INSERT INTO events (service, at_ms, kind, message) VALUES (?,?,?,?)");
  SP_RETURN_IF_ERROR(s.status());
  s.Bind(1, e.service).Bind(2, e.at_ms).Bind(3, e.kind).Bind(4, e.message);
  return s.Run();
}

Status Store::Put(const ServiceRecord& rec, const EventRecord* event) {
  std::lock_guard<std::mutex> lock(mu_);
  SP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status st = PutLocked(rec);
  if (st.ok() && event) st = AppendEventLocked(*event);
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Status Store::Remove(const std::string& name, const EventRecord* event) {
  std::lock_guard<std::mutex> lock(mu_);
  SP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Stmt s(db_, "DELETE FROM services WHERE name = ?");
  Status st = s.status();
  if (st.ok()) st = s.Bind(1, name).Run();
  if (st.ok() && event) st = AppendEventLocked(*event);
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<std::optional<ServiceRecord>> Store::Get(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = "SELECT " + ServiceColumnList() + " FROM services WHERE name = ?";
  Stmt s(db_, sql.c_str());
  SP_RETURN_IF_ERROR(s.status());
  s.Bind(1, name);
  if (s.Step() != SQLITE_ROW) return std::optional<ServiceRecord>();
  return std::optional<ServiceRecord>(ReadService(s));
}

Result<std::vector<ServiceRecord>> Store::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = "SELECT " + ServiceColumnList() + " FROM services ORDER BY name";
  Stmt s(db_, sql.c_str());
  SP_RETURN_IF_ERROR(s.status());
  std::vector<ServiceRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ReadService(s));
  return out;
}

Result<std::vector<EventRecord>> Store::Events(const std::string& service, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT id, service, at_ms, kind, message FROM "
         "(SELECT * FROM events WHERE service = ? ORDER BY id DESC LIMIT ?) ORDER BY id");
  SP_RETURN_IF_ERROR(s.status());
  s.Bind(1, service).Bind(2, int64_t{limit});
  std::vector<EventRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Int(2), s.Text(3), s.Text(4)});
  return out;
}

Status Store::SetLogPosition(const std::string& name, int64_t segment, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "UPDATE services SET log_segment = ?, log_offset = ? WHERE name = ?");
  SP_RETURN_IF_ERROR(s.status());
  return s.Bind(1, segment).Bind(2, offset).Bind(3, name).Run();
}

Result<std::optional<std::string>> Store::GetSetting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT value FROM settings WHERE key = ?");
  SP_RETURN_IF_ERROR(s.status());
  s.Bind(1, key);
  if (s.Step() != SQLITE_ROW) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status Store::PutSetting(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)");
  SP_RETURN_IF_ERROR(s.status());
  return s.Bind(1, key).Bind(2, value).Run();
}

}  // namespace sp
