// The outbox's SQLite store. One connection, used by one thread at a time (the queue's worker), every
// operation one transaction. Prepared statements are cached: an enqueue is one INSERT and a COMMIT.

#include <edgeloop/outbox/error.hpp>
#include <edgeloop/outbox/store.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string_view>
#include <unordered_map>

namespace edgeloop::outbox {

namespace {

constexpr int schema_version = 1;

using clock = std::chrono::system_clock;

std::int64_t to_ms(clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
clock::time_point from_ms(std::int64_t ms) {
    return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::milliseconds(ms)));
}

std::string encode_properties(const aws::publish_request& p) {
    boost::json::object o;
    if (!p.mqtt_content_type.empty())
        o["contentType"] = p.mqtt_content_type;
    if (!p.response_topic.empty())
        o["responseTopic"] = p.response_topic;
    if (p.message_expiry)
        o["messageExpiry"] = *p.message_expiry;
    if (!p.user_properties.empty()) {
        boost::json::array a;
        for (const auto& up : p.user_properties)
            a.push_back(boost::json::array{boost::json::string(up.name), boost::json::string(up.value)});
        o["userProperties"] = std::move(a);
    }
    if (p.format != aws::payload_format::unset)
        o["payloadFormat"] = static_cast<int>(p.format);
    if (!p.correlation_data.empty())
        o["correlationData"] = aws::base64_encode(p.correlation_data);
    if (p.content_type != "application/json")
        o["httpContentType"] = p.content_type;
    return o.empty() ? std::string() : boost::json::serialize(o);
}

void decode_properties(std::string_view text, aws::publish_request& p) {
    if (text.empty())
        return;
    boost::system::error_code ec;
    const auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object())
        return;
    const auto& o = v.get_object();
    if (const auto* s = o.if_contains("contentType"); s && s->is_string())
        p.mqtt_content_type = s->get_string();
    if (const auto* s = o.if_contains("responseTopic"); s && s->is_string())
        p.response_topic = s->get_string();
    if (const auto* s = o.if_contains("messageExpiry"); s && s->is_number())
        p.message_expiry = s->to_number<std::uint32_t>();
    if (const auto* s = o.if_contains("userProperties"); s && s->is_array())
        for (const auto& pair : s->get_array())
            if (pair.is_array() && pair.get_array().size() == 2 && pair.get_array()[0].is_string() &&
                pair.get_array()[1].is_string())
                p.user_properties.push_back({std::string(pair.get_array()[0].get_string()),
                                             std::string(pair.get_array()[1].get_string())});
    if (const auto* s = o.if_contains("payloadFormat"); s && s->is_int64())
        p.format = static_cast<aws::payload_format>(s->get_int64());
    if (const auto* s = o.if_contains("correlationData"); s && s->is_string())
        p.correlation_data = aws::base64_decode(s->get_string()).value_or("");
    if (const auto* s = o.if_contains("httpContentType"); s && s->is_string())
        p.content_type = s->get_string();
}

std::string utc_stamp() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string random_id() {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

} // namespace

struct store::impl {
    sqlite3* db = nullptr;
    options opts;
    std::string instance;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    std::uint64_t dropped = 0;
    std::string last_error;
    int version = 0; ///< the file's schema version, as check() found it
    std::unordered_map<const char*, sqlite3_stmt*> cache;

    ~impl() { close(); }

    void close() {
        for (auto& [sql, st] : cache)
            sqlite3_finalize(st);
        cache.clear();
        if (db)
            sqlite3_close_v2(db);
        db = nullptr;
    }

    /// Maps a SQLite result code to ours, recording what failed.
    boost::system::error_code fail(int rc, std::string_view what) {
        last_error = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        switch (rc & 0xff) {
        case SQLITE_FULL:
            return error::disk_full;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return error::corrupt_database;
        default:
            return error::database_error;
        }
    }

    boost::system::error_code exec(const char* sql) {
        char* msg = nullptr;
        const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
        sqlite3_free(msg);
        return rc == SQLITE_OK ? boost::system::error_code() : fail(rc, sql);
    }

    /// A cached statement, reset and unbound (keyed by the SQL literal's address).
    sqlite3_stmt* stmt(const char* sql, boost::system::error_code& ec) {
        auto it = cache.find(sql);
        if (it != cache.end()) {
            sqlite3_reset(it->second);
            sqlite3_clear_bindings(it->second);
            return it->second;
        }
        sqlite3_stmt* st = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
        if (rc != SQLITE_OK) {
            ec = fail(rc, sql);
            return nullptr;
        }
        cache.emplace(sql, st);
        return st;
    }

    /// Runs a statement that returns no rows (or ignores them).
    boost::system::error_code run(sqlite3_stmt* st, const char* what) {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        }
        const auto ec = rc == SQLITE_DONE ? boost::system::error_code() : fail(rc, what);
        sqlite3_reset(st);
        return ec;
    }

    boost::system::error_code begin() { return exec("BEGIN IMMEDIATE"); }
    boost::system::error_code commit() {
        if (auto ec = exec("COMMIT")) {
            const auto keep = last_error;
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            last_error = keep;
            return ec;
        }
        return {};
    }
    boost::system::error_code rollback(boost::system::error_code ec) {
        const auto keep = last_error;
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        last_error = keep;
        return ec;
    }

    std::string id_of(std::int64_t seq) const { return instance + "-" + std::to_string(seq); }

    /// Looks at the file: schema version and integrity. Empty when usable.
    boost::system::error_code check(std::string& detail) {
        sqlite3_stmt* st = nullptr;
        int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
        int found = 0;
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                found = sqlite3_column_int(st, 0);
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_OK) {
            detail = sqlite3_errmsg(db);
            return fail(rc, "PRAGMA user_version");
        }
        version = found;
        if (version > schema_version) {
            detail = "schema version " + std::to_string(version) + ", this build knows up to " +
                     std::to_string(schema_version);
            return error::newer_schema;
        }
        st = nullptr;
        rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, nullptr);
        std::string verdict;
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                const auto* text = sqlite3_column_text(st, 0);
                verdict = text ? reinterpret_cast<const char*>(text) : "";
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_OK) {
            detail = sqlite3_errmsg(db);
            return fail(rc, "PRAGMA quick_check");
        }
        if (verdict != "ok") {
            detail = "integrity check: " + verdict;
            return error::corrupt_database;
        }
        if (version == 0) {
            // A new file has no tables; one with tables but no version is not ours.
            st = nullptr;
            sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
            const int tables = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
            sqlite3_finalize(st);
            if (tables > 0) {
                detail = "a SQLite database that is not an outbox";
                return error::corrupt_database;
            }
        }
        return {};
    }

    boost::system::error_code open_file(bool create) {
        if (create) {
            // Created 0600: messages may be private.
            const int fd = ::open(opts.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) {
                last_error = "cannot create " + opts.path + ": " + std::strerror(errno);
                return errno == ENOSPC ? error::disk_full : error::database_error;
            }
            ::close(fd);
        }
        const int rc = sqlite3_open_v2(opts.path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
        if (rc != SQLITE_OK) {
            auto ec = fail(rc, "open " + opts.path);
            close();
            return ec;
        }
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, 5000);
        return {};
    }

    boost::system::error_code setup() {
        if (auto ec = exec("PRAGMA journal_mode=WAL"))
            return ec;
        if (auto ec =
                exec(opts.sync == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"))
            return ec;
        // A database made before needs no write to be opened (it may be on a full disk).
        if (version == 0)
            if (auto ec = create_schema())
                return ec;
        return load();
    }

    boost::system::error_code create_schema() {
        if (auto ec = begin())
            return ec;
        if (auto ec = exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                           "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL,"
                           " retain INTEGER NOT NULL, properties TEXT NOT NULL, enqueued_at INTEGER NOT NULL,"
                           " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');"
                           "CREATE TABLE IF NOT EXISTS dead_letters(seq INTEGER PRIMARY KEY,"
                           " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL,"
                           " retain INTEGER NOT NULL, properties TEXT NOT NULL, enqueued_at INTEGER NOT NULL,"
                           " attempts INTEGER NOT NULL, last_error TEXT NOT NULL, status INTEGER NOT NULL,"
                           " reason TEXT NOT NULL, dead_at INTEGER NOT NULL);"
                           "PRAGMA user_version=1;"))
            return rollback(ec);
        boost::system::error_code ec;
        auto* ins =
            stmt("INSERT OR IGNORE INTO meta(key, value) VALUES('instance', ?1), ('dropped', '0')", ec);
        if (!ins)
            return rollback(ec);
        const auto fresh = random_id();
        sqlite3_bind_text(ins, 1, fresh.c_str(), -1, SQLITE_TRANSIENT);
        if ((ec = run(ins, "insert meta")))
            return rollback(ec);
        return commit();
    }

    boost::system::error_code load() {
        boost::system::error_code ec;
        auto* get =
            stmt("SELECT (SELECT value FROM meta WHERE key='instance'),"
                 " (SELECT value FROM meta WHERE key='dropped'),"
                 " (SELECT count(*) FROM messages),"
                 " (SELECT total(length(topic) + length(payload) + length(properties)) FROM messages)",
                 ec);
        if (!get)
            return ec;
        if (sqlite3_step(get) != SQLITE_ROW)
            return fail(sqlite3_errcode(db), "read meta");
        instance = reinterpret_cast<const char*>(sqlite3_column_text(get, 0));
        dropped = std::stoull(reinterpret_cast<const char*>(sqlite3_column_text(get, 1)));
        count = static_cast<std::uint64_t>(sqlite3_column_int64(get, 2));
        bytes = static_cast<std::uint64_t>(sqlite3_column_double(get, 3));
        sqlite3_reset(get);
        return {};
    }

    message read_message(sqlite3_stmt* st) const {
        message m;
        m.seq = sqlite3_column_int64(st, 0);
        m.id = id_of(m.seq);
        const auto* topic = sqlite3_column_text(st, 1);
        m.publish.topic = topic ? reinterpret_cast<const char*>(topic) : "";
        const auto* payload = static_cast<const char*>(sqlite3_column_blob(st, 2));
        m.publish.payload.assign(payload ? payload : "",
                                 static_cast<std::size_t>(sqlite3_column_bytes(st, 2)));
        m.publish.qos = sqlite3_column_int(st, 3);
        m.publish.retain = sqlite3_column_int(st, 4) != 0;
        const auto* props = sqlite3_column_text(st, 5);
        decode_properties(props ? reinterpret_cast<const char*>(props) : "", m.publish);
        m.enqueued_at = from_ms(sqlite3_column_int64(st, 6));
        m.attempts = static_cast<std::uint32_t>(sqlite3_column_int(st, 7));
        const auto* last = sqlite3_column_text(st, 8);
        m.last_error = last ? reinterpret_cast<const char*>(last) : "";
        return m;
    }

    /// Deletes one message inside the caller's transaction; returns its size (0: it was not there).
    boost::system::result<std::uint64_t> delete_row(std::int64_t seq) {
        boost::system::error_code ec;
        auto* st = stmt("DELETE FROM messages WHERE seq = ?1 RETURNING length(topic) + length(payload) + "
                        "length(properties)",
                        ec);
        if (!st)
            return ec;
        sqlite3_bind_int64(st, 1, seq);
        std::uint64_t size = 0;
        int rc;
        bool found = false;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            size = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
            found = true;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return fail(rc, "delete message");
        return found ? size + 1 : 0; // +1 tells "found, size 0" from "absent"; the caller subtracts it
    }
};

store::store()
    : impl_(std::make_unique<impl>()) {}
store::~store() = default;
store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;

bool store::is_open() const noexcept {
    return impl_ && impl_->db;
}
const std::string& store::last_error() const noexcept {
    return impl_->last_error;
}

boost::system::error_code store::open(const options& opts, open_report& report) {
    impl_->close();
    impl_->opts = opts;
    if (auto ec = impl_->open_file(true))
        return ec;
    std::string detail;
    if (auto bad = impl_->check(detail)) {
        if (bad != error::corrupt_database && bad != error::newer_schema)
            return bad;
        // Never emptied: the file (with its WAL and shared-memory files) is kept beside, under a new name.
        impl_->close();
        const auto target = opts.path + (bad == error::newer_schema ? ".newer-" : ".corrupt-") + utc_stamp();
        std::error_code fec;
        std::filesystem::rename(opts.path, target, fec);
        if (fec) {
            impl_->last_error = "cannot move " + opts.path + " aside to " + target + ": " + fec.message();
            return bad;
        }
        for (const char* suffix : {"-wal", "-shm"})
            if (std::filesystem::exists(opts.path + suffix, fec))
                std::filesystem::rename(opts.path + suffix, target + suffix, fec);
        report.moved_aside_to = target;
        report.reason = bad;
        report.detail = detail;
        if (auto ec = impl_->open_file(true))
            return ec;
        if (auto ec = impl_->check(detail)) { // the new, empty file
            impl_->close();
            return ec;
        }
    }
    if (auto ec = impl_->setup()) {
        impl_->close();
        return ec;
    }
    return {};
}

boost::system::error_code store::open_existing(const options& opts) {
    impl_->close();
    impl_->opts = opts;
    if (!std::filesystem::exists(opts.path)) {
        impl_->last_error = opts.path + ": no such file";
        return error::database_error;
    }
    if (auto ec = impl_->open_file(false))
        return ec;
    std::string detail;
    if (auto bad = impl_->check(detail)) {
        impl_->last_error = opts.path + ": " + detail;
        impl_->close();
        return bad;
    }
    if (auto ec = impl_->setup()) {
        impl_->close();
        return ec;
    }
    return {};
}

boost::system::result<std::int64_t> store::enqueue(message& m, clock::time_point now) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    const std::string props = encode_properties(m.publish);
    const std::uint64_t size = m.publish.topic.size() + m.publish.payload.size() + props.size();
    if (d.opts.max_bytes && size > d.opts.max_bytes)
        return error::message_too_large;
    const auto over = [&](std::uint64_t count, std::uint64_t bytes) {
        return (d.opts.max_messages && count + 1 > d.opts.max_messages) ||
               (d.opts.max_bytes && bytes + size > d.opts.max_bytes);
    };
    std::uint64_t count = d.count, bytes = d.bytes, dropped = 0;
    if (over(count, bytes) && d.opts.when_full == full_policy::refuse)
        return error::full;
    if (auto ec = d.begin())
        return ec;
    boost::system::error_code ec;
    while (over(count, bytes) && count > 0) {
        auto* oldest = d.stmt("SELECT seq FROM messages ORDER BY seq LIMIT 1", ec);
        if (!oldest)
            return d.rollback(ec);
        if (sqlite3_step(oldest) != SQLITE_ROW) {
            ec = d.fail(sqlite3_errcode(d.db), "find oldest");
            sqlite3_reset(oldest);
            return d.rollback(ec);
        }
        const auto seq = sqlite3_column_int64(oldest, 0);
        sqlite3_reset(oldest);
        auto gone = d.delete_row(seq);
        if (!gone)
            return d.rollback(gone.error());
        --count;
        bytes -= *gone - 1;
        ++dropped;
    }
    auto* ins = d.stmt("INSERT INTO messages(topic, payload, qos, retain, properties, enqueued_at) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                       ec);
    if (!ins)
        return d.rollback(ec);
    sqlite3_bind_text(ins, 1, m.publish.topic.data(), static_cast<int>(m.publish.topic.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(ins, 2, m.publish.payload.data(), static_cast<int>(m.publish.payload.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(ins, 3, m.publish.qos);
    sqlite3_bind_int(ins, 4, m.publish.retain ? 1 : 0);
    sqlite3_bind_text(ins, 5, props.data(), static_cast<int>(props.size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins, 6, to_ms(now));
    if ((ec = d.run(ins, "insert message")))
        return d.rollback(ec);
    const auto seq = sqlite3_last_insert_rowid(d.db);
    if (dropped) {
        auto* upd = d.stmt("UPDATE meta SET value = CAST(value AS INTEGER) + ?1 WHERE key = 'dropped'", ec);
        if (!upd)
            return d.rollback(ec);
        sqlite3_bind_int64(upd, 1, static_cast<sqlite3_int64>(dropped));
        if ((ec = d.run(upd, "count dropped")))
            return d.rollback(ec);
    }
    if ((ec = d.commit()))
        return ec;
    d.count = count + 1;
    d.bytes = bytes + size;
    d.dropped += dropped;
    m.seq = seq;
    m.id = d.id_of(seq);
    m.enqueued_at = now;
    return seq;
}

boost::system::result<std::uint64_t> store::expire(clock::time_point now) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    if (!d.opts.ttl)
        return 0;
    const auto cutoff = to_ms(now - *d.opts.ttl);
    boost::system::error_code ec;
    auto* probe = d.stmt("SELECT count(*), total(length(topic) + length(payload) + length(properties)) "
                         "FROM messages WHERE enqueued_at < ?1",
                         ec);
    if (!probe)
        return ec;
    sqlite3_bind_int64(probe, 1, cutoff);
    if (sqlite3_step(probe) != SQLITE_ROW) {
        ec = d.fail(sqlite3_errcode(d.db), "count expired");
        sqlite3_reset(probe);
        return ec;
    }
    const auto n = static_cast<std::uint64_t>(sqlite3_column_int64(probe, 0));
    const auto size = static_cast<std::uint64_t>(sqlite3_column_double(probe, 1));
    sqlite3_reset(probe);
    if (n == 0)
        return 0;
    if ((ec = d.begin()))
        return ec;
    auto* move = d.stmt("INSERT INTO dead_letters SELECT seq, topic, payload, qos, retain, properties, "
                        "enqueued_at, attempts, last_error, 0, ?2, ?3 FROM messages WHERE enqueued_at < ?1",
                        ec);
    if (!move)
        return d.rollback(ec);
    const std::string reason =
        "expired: not delivered within the TTL of " + std::to_string(d.opts.ttl->count()) + " s";
    sqlite3_bind_int64(move, 1, cutoff);
    sqlite3_bind_text(move, 2, reason.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(move, 3, to_ms(now));
    if ((ec = d.run(move, "move expired")))
        return d.rollback(ec);
    auto* del = d.stmt("DELETE FROM messages WHERE enqueued_at < ?1", ec);
    if (!del)
        return d.rollback(ec);
    sqlite3_bind_int64(del, 1, cutoff);
    if ((ec = d.run(del, "delete expired")))
        return d.rollback(ec);
    if ((ec = d.commit()))
        return ec;
    d.count -= n;
    d.bytes -= size;
    return n;
}

boost::system::result<std::optional<message>> store::front() {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    boost::system::error_code ec;
    auto* st =
        d.stmt("SELECT seq, topic, payload, qos, retain, properties, enqueued_at, attempts, last_error "
               "FROM messages ORDER BY seq LIMIT 1",
               ec);
    if (!st)
        return ec;
    const int rc = sqlite3_step(st);
    std::optional<message> m;
    if (rc == SQLITE_ROW)
        m = d.read_message(st);
    else if (rc != SQLITE_DONE)
        ec = d.fail(rc, "read head");
    sqlite3_reset(st);
    if (ec)
        return ec;
    return m;
}

boost::system::error_code store::remove(std::int64_t seq) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    auto gone = d.delete_row(seq);
    if (!gone)
        return gone.error();
    if (*gone) {
        --d.count;
        d.bytes -= *gone - 1;
    }
    return {};
}

boost::system::error_code store::record_failure(std::int64_t seq, const std::string& reason) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    boost::system::error_code ec;
    auto* st = d.stmt("UPDATE messages SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1", ec);
    if (!st)
        return ec;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, reason.c_str(), -1, SQLITE_TRANSIENT);
    return d.run(st, "record failure");
}

boost::system::error_code store::move_to_dead_letters(std::int64_t seq, unsigned status,
                                                      const std::string& reason, clock::time_point now) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    boost::system::error_code ec;
    if ((ec = d.begin()))
        return ec;
    auto* st = d.stmt("INSERT INTO dead_letters SELECT seq, topic, payload, qos, retain, properties, "
                      "enqueued_at, attempts, last_error, ?2, ?3, ?4 FROM messages WHERE seq = ?1",
                      ec);
    if (!st)
        return d.rollback(ec);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, static_cast<int>(status));
    sqlite3_bind_text(st, 3, reason.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, to_ms(now));
    if ((ec = d.run(st, "insert dead letter")))
        return d.rollback(ec);
    auto gone = d.delete_row(seq);
    if (!gone)
        return d.rollback(gone.error());
    if ((ec = d.commit()))
        return ec;
    if (*gone) {
        --d.count;
        d.bytes -= *gone - 1;
    }
    return {};
}

boost::system::result<stats> store::statistics() {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    boost::system::error_code ec;
    auto* st =
        d.stmt("SELECT (SELECT min(enqueued_at) FROM messages), (SELECT count(*) FROM dead_letters)", ec);
    if (!st)
        return ec;
    if (sqlite3_step(st) != SQLITE_ROW) {
        ec = d.fail(sqlite3_errcode(d.db), "statistics");
        sqlite3_reset(st);
        return ec;
    }
    stats s{.depth = d.count, .bytes = d.bytes, .oldest = {}, .dead_letters = 0, .dropped = d.dropped};
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        s.oldest = from_ms(sqlite3_column_int64(st, 0));
    s.dead_letters = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return s;
}

boost::system::result<std::vector<dead_letter>> store::dead_letters(std::size_t limit) {
    auto& d = *impl_;
    if (!d.db)
        return error::closed;
    boost::system::error_code ec;
    auto* st =
        d.stmt("SELECT seq, topic, payload, qos, retain, properties, enqueued_at, attempts, last_error, "
               "status, reason, dead_at FROM dead_letters ORDER BY seq LIMIT ?1",
               ec);
    if (!st)
        return ec;
    sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(limit));
    std::vector<dead_letter> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        dead_letter dl;
        dl.msg = d.read_message(st);
        dl.status = static_cast<unsigned>(sqlite3_column_int(st, 9));
        const auto* reason = sqlite3_column_text(st, 10);
        dl.reason = reason ? reinterpret_cast<const char*>(reason) : "";
        dl.dead_at = from_ms(sqlite3_column_int64(st, 11));
        out.push_back(std::move(dl));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return d.fail(rc, "read dead letters");
    return out;
}

} // namespace edgeloop::outbox
