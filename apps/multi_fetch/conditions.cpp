#include "conditions.hpp"

#include <edgeloop/http/date.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace multi_fetch {

std::string apply_conditions(const options& opt, edgeloop::http::request& req, std::FILE* warnings) {
    req.decompress = opt.compressed;
    if (opt.max_filesize) {
        req.limits = edgeloop::http::limits{};
        req.limits->max_body_bytes = *opt.max_filesize;
    }
    if (!opt.etag_compare.empty()) {
        std::ifstream in(opt.etag_compare, std::ios::binary);
        if (!in && opt.etag_save.empty())
            return "--etag-compare " + opt.etag_compare + ": cannot open (" + std::strerror(errno) + ")";
        std::string etag;
        std::getline(in, etag); // the first line, as --etag-save writes it
        while (!etag.empty() && (etag.back() == '\r' || etag.back() == ' '))
            etag.pop_back();
        // curl sends If-None-Match: "" for a missing or empty file: it matches no entity, as sending
        // nothing does.
        req.if_none_match = etag.empty() ? "\"\"" : etag;
    }
    if (!opt.time_cond.empty()) {
        // curl: "-DATE" asks If-Unmodified-Since, "+DATE" or "DATE" If-Modified-Since; DATE is a date,
        // else the name of a file whose modification time is taken.
        std::string_view value = opt.time_cond;
        const bool unmodified = value.front() == '-';
        if (value.front() == '-' || value.front() == '+')
            value.remove_prefix(1);
        auto when = edgeloop::http::parse_http_date(value);
        if (!when) {
            struct stat st {};
            if (::stat(std::string(value).c_str(), &st) == 0)
                when = std::chrono::system_clock::from_time_t(st.st_mtime);
        }
        if (!when)
            std::fprintf(warnings,
                         "multi_fetch: warning: --time-cond %s: neither a date (\"Sun, 06 Nov 1994 08:49:37 "
                         "GMT\", \"1994-11-06\") nor a file: no time condition\n",
                         opt.time_cond.c_str());
        else if (unmodified)
            req.if_unmodified_since = when;
        else
            req.if_modified_since = when;
    }
    return {};
}

std::string save_etag(const options& opt, const edgeloop::http::transfer_info& info) {
    if (opt.etag_save.empty() || info.etag.empty())
        return {};
    const std::string line = info.etag + "\n";
    if (opt.etag_save == "-") {
        std::fwrite(line.data(), 1, line.size(), stdout);
        return {};
    }
    // Written aside and renamed: a reader (or --etag-compare next time) never sees half an ETag.
    const std::string part = opt.etag_save + ".part";
    {
        std::ofstream out(part, std::ios::binary | std::ios::trunc);
        if (!(out << line) || !out.flush())
            return "--etag-save " + opt.etag_save + ": cannot write (" + std::strerror(errno) + ")";
    }
    std::error_code ec;
    std::filesystem::rename(part, opt.etag_save, ec);
    if (ec) {
        std::filesystem::remove(part, ec);
        return "--etag-save " + opt.etag_save + ": " + ec.message();
    }
    return {};
}

} // namespace multi_fetch
