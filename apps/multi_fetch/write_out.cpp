#include "write_out.hpp"

#include <boost/json/serialize.hpp>

#include <cctype>
#include <cstdio>
#include <optional>
#include <set>

namespace multi_fetch {

namespace {

std::string seconds(std::chrono::microseconds t) {
    char out[32];
    std::snprintf(out, sizeof out, "%lld.%06lld", static_cast<long long>(t.count() / 1000000),
                  static_cast<long long>(t.count() % 1000000));
    return out;
}

double seconds_number(std::chrono::microseconds t) {
    return static_cast<double>(t.count()) / 1e6;
}

std::string http_code(unsigned status) {
    char out[8];
    std::snprintf(out, sizeof out, "%03u", status % 1000);
    return out;
}

const std::string& effective_url(const edgeloop::http::transfer_info& info) {
    return info.final_url.empty() ? info.url : info.final_url;
}

/// The text of one variable, or nullopt when unknown.
std::optional<std::string> variable(const std::string& name, const transfer_report& r) {
    const auto& i = r.info;
    if (name == "http_code" || name == "response_code")
        return http_code(i.status);
    if (name == "size_download")
        return std::to_string(i.body_bytes);
    if (name == "size_upload")
        return std::to_string(r.upload_bytes);
    if (name == "time_namelookup")
        return seconds(i.time_namelookup);
    if (name == "time_connect")
        return seconds(i.time_connect);
    if (name == "time_appconnect")
        return seconds(i.time_appconnect);
    if (name == "time_starttransfer")
        return seconds(i.time_starttransfer);
    if (name == "time_total")
        return seconds(i.time_total);
    if (name == "url_effective")
        return effective_url(i);
    if (name == "num_redirects")
        return std::to_string(i.redirects);
    if (name == "num_connects")
        return std::to_string(i.connects);
    if (name == "num_retries") // curl 8.9's name: the attempts after the first
        return std::to_string(i.attempts > 0 ? i.attempts - 1 : 0);
    if (name == "resumed_from") // edgeloop's own: the byte the body delivered last started at
        return std::to_string(i.resumed_from);
    if (name == "remote_ip")
        return i.remote_ip;
    if (name == "remote_port")
        return i.remote_port == 0 ? std::string() : std::to_string(i.remote_port);
    if (name == "ssl_verify_result")
        return r.verified ? "0" : "1";
    if (name == "errormsg")
        return r.errormsg;
    if (name == "exitcode")
        return std::to_string(r.exitcode);
    if (name == "header_json")
        return boost::json::serialize(header_json(r.headers));
    if (name == "json")
        return boost::json::serialize(json_of(r));
    return std::nullopt;
}

} // namespace

boost::json::object header_json(const edgeloop::http::header_list& headers) {
    boost::json::object out;
    for (const auto& [name, value] : headers) {
        std::string key = name;
        for (char& c : key)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto& slot = out[key];
        if (!slot.is_array())
            slot = boost::json::array();
        slot.as_array().emplace_back(value);
    }
    return out;
}

boost::json::object json_of(const transfer_report& r) {
    const auto& i = r.info;
    boost::json::object o;
    o["url"] = i.url;
    o["url_effective"] = effective_url(i);
    o["http_code"] = i.status;
    o["response_code"] = i.status;
    o["size_download"] = i.body_bytes;
    o["size_upload"] = r.upload_bytes;
    o["time_namelookup"] = seconds_number(i.time_namelookup);
    o["time_connect"] = seconds_number(i.time_connect);
    o["time_appconnect"] = seconds_number(i.time_appconnect);
    o["time_starttransfer"] = seconds_number(i.time_starttransfer);
    o["time_total"] = seconds_number(i.time_total);
    o["num_redirects"] = i.redirects;
    o["num_connects"] = i.connects;
    o["num_retries"] = i.attempts > 0 ? i.attempts - 1 : 0;
    o["resumed_from"] = i.resumed_from;
    o["remote_ip"] = i.remote_ip;
    o["remote_port"] = i.remote_port;
    o["ssl_verify_result"] = r.verified ? 0 : 1;
    if (r.errormsg.empty())
        o["errormsg"] = nullptr;
    else
        o["errormsg"] = r.errormsg;
    o["exitcode"] = r.exitcode;
    return o;
}

void write_out(const std::string& format, const transfer_report& r) {
    static std::set<std::string> warned;
    std::FILE* out = stdout;
    std::string text;
    const auto flush = [&] {
        std::fwrite(text.data(), 1, text.size(), out);
        text.clear();
    };
    for (std::size_t i = 0; i < format.size(); ++i) {
        const char c = format[i];
        if (c == '\\' && i + 1 < format.size()) {
            const char e = format[i + 1];
            if (e == 'n' || e == 'r' || e == 't' || e == '\\') {
                text += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : '\\';
                ++i;
                continue;
            }
        }
        if (c == '%' && i + 1 < format.size() && format[i + 1] == '%') {
            text += '%';
            ++i;
            continue;
        }
        if (c == '%' && i + 1 < format.size() && format[i + 1] == '{') {
            const auto end = format.find('}', i + 2);
            if (end != std::string::npos) {
                const auto name = format.substr(i + 2, end - i - 2);
                i = end;
                if (name == "stderr" || name == "stdout") {
                    flush();
                    out = name == "stderr" ? stderr : stdout;
                } else if (auto value = variable(name, r)) {
                    text += *value;
                } else if (warned.insert(name).second) {
                    std::fprintf(stderr, "multi_fetch: unknown --write-out variable: '%s'\n", name.c_str());
                }
                continue;
            }
        }
        text += c;
    }
    flush();
    std::fflush(stdout);
    std::fflush(stderr);
}

} // namespace multi_fetch
