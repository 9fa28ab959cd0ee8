#include "request_plan.hpp"

#include <edgeloop/http/options.hpp>

#include <boost/url/parse.hpp>

#include <termios.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <span>
#include <strings.h>

namespace multi_fetch {

namespace {

using edgeloop::http::header_list;

/// Whole small files only: -H @FILE lists and -G data, which end up in the request head.
constexpr std::size_t max_inline_file = 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") + 1 - first));
}

/// The content of a small file ("-": stdin), at most max_inline_file bytes.
std::string read_small_file(const std::string& option, const std::string& path) {
    const int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw usage_error(option + " @" + path + ": cannot open (" + std::strerror(errno) + ")");
    std::string out;
    char piece[4096];
    for (;;) {
        const auto n = ::read(fd, piece, sizeof piece);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int err = errno;
            if (fd != STDIN_FILENO)
                ::close(fd);
            if (n < 0)
                throw usage_error(option + " @" + path + ": " + std::strerror(err));
            return out;
        }
        out.append(piece, static_cast<std::size_t>(n));
        if (out.size() > max_inline_file) {
            if (fd != STDIN_FILENO)
                ::close(fd);
            throw usage_error(option + " @" + path + ": larger than 1 MiB");
        }
    }
}

/// Checks that a body file can be read; true when it is a regular file (its size known in advance).
bool check_readable(const std::string& option, const std::string& path) {
    if (path == "-")
        return false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw usage_error(option + " " + path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const bool directory = S_ISDIR(st.st_mode);
    ::close(fd);
    if (directory)
        throw usage_error(option + " " + path + ": is a directory");
    return regular;
}

std::string without_newlines(std::string s) {
    std::erase_if(s, [](char c) { return c == '\r' || c == '\n'; });
    return s;
}

std::string base64(std::string_view in) {
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const auto b0 = static_cast<unsigned char>(in[i]);
        const auto b1 = i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) : 0u;
        const auto b2 = i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0u;
        out += digits[b0 >> 2];
        out += digits[((b0 & 3) << 4) | (b1 >> 4)];
        out += i + 1 < in.size() ? digits[((b1 & 15) << 2) | (b2 >> 6)] : '=';
        out += i + 2 < in.size() ? digits[b2 & 63] : '=';
    }
    return out;
}

std::string basic(std::string_view user_password) {
    return "Basic " + base64(user_password);
}

/// The password for -u USER, read from the terminal without echo. Throws usage_error without one.
std::string ask_password(const std::string& user) {
    const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty < 0)
        throw usage_error("--user " + user + ": no password given and no terminal to ask for it on");
    const std::string prompt = "Enter host password for user '" + user + "':";
    [[maybe_unused]] auto w = ::write(tty, prompt.data(), prompt.size());
    termios saved{};
    const bool restore = ::tcgetattr(tty, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    std::string password;
    char c = 0;
    while (::read(tty, &c, 1) == 1 && c != '\n')
        password += c;
    if (restore)
        ::tcsetattr(tty, TCSAFLUSH, &saved);
    w = ::write(tty, "\n", 1);
    ::close(tty);
    if (!password.empty() && password.back() == '\r')
        password.pop_back();
    return password;
}

/// The entries of a .netrc file: "machine NAME login L password P" and "default login L password P"
/// (tokens separated by blanks or newlines, "quoted" allowed; macdef bodies are skipped).
std::vector<request_plan::netrc_entry> read_netrc(const std::string& path) {
    const auto text = read_small_file("--netrc-file", path);
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < text.size();) {
        if (std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        std::string token;
        if (text[i] == '"') {
            for (++i; i < text.size() && text[i] != '"'; ++i)
                token += text[i] == '\\' && i + 1 < text.size() ? text[++i] : text[i];
            ++i;
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
                token += text[i++];
        }
        if (token == "macdef") { // skip to the blank line ending the macro
            const auto end = text.find("\n\n", i);
            i = end == std::string::npos ? text.size() : end + 2;
            continue;
        }
        tokens.push_back(std::move(token));
    }
    std::vector<request_plan::netrc_entry> entries;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] == "machine" && i + 1 < tokens.size())
            entries.push_back({tokens[++i], "", ""});
        else if (tokens[i] == "default")
            entries.push_back({"", "", ""});
        else if (tokens[i] == "login" && i + 1 < tokens.size() && !entries.empty())
            entries.back().login = tokens[++i];
        else if (tokens[i] == "password" && i + 1 < tokens.size() && !entries.empty())
            entries.back().password = tokens[++i];
        else if (tokens[i] == "account" && i + 1 < tokens.size())
            ++i;
        else
            throw usage_error("--netrc-file " + path + ": unexpected '" + tokens[i] + "'");
    }
    return entries;
}

/// Streams a list of segments as a body_source: literals, then files read a piece at a time.
class body_streamer {
public:
    body_streamer(std::shared_ptr<const std::vector<request_plan::segment>> segments,
                  std::shared_ptr<body_status> status)
        : segments_(std::move(segments))
        , status_(std::move(status)) {}
    body_streamer(const body_streamer&) = delete;
    body_streamer& operator=(const body_streamer&) = delete;
    ~body_streamer() { close(); }

    std::size_t fill(std::span<std::byte> buffer) {
        const auto n = fill_some(buffer);
        status_->upload_bytes += n;
        return n;
    }

private:
    std::size_t fill_some(std::span<std::byte> buffer) {
        auto* out = reinterpret_cast<char*>(buffer.data());
        std::size_t n = 0;
        while (n < buffer.size() && index_ < segments_->size()) {
            const auto& s = (*segments_)[index_];
            if (s.path.empty()) {
                const auto take = std::min(buffer.size() - n, s.text.size() - offset_);
                std::memcpy(out + n, s.text.data() + offset_, take);
                n += take;
                offset_ += take;
                if (offset_ == s.text.size()) {
                    ++index_;
                    offset_ = 0;
                }
                continue;
            }
            if (fd_ < 0) {
                fd_ = s.path == "-" ? STDIN_FILENO : ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd_ < 0)
                    return fail(s.path, errno);
            }
            const auto r = ::read(fd_, out + n, buffer.size() - n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return fail(s.path, errno);
            if (r == 0) {
                close();
                ++index_;
                continue;
            }
            if (s.strip_newlines) {
                const auto end =
                    std::remove_if(out + n, out + n + r, [](char c) { return c == '\r' || c == '\n'; });
                n = static_cast<std::size_t>(end - out);
            } else {
                n += static_cast<std::size_t>(r);
            }
            // A pipe: send what arrived rather than wait (blocking the loop) for a full buffer.
            if (n > 0 && s.path == "-")
                break;
        }
        return n;
    }

    std::size_t fail(const std::string& path, int err) {
        status_->error = (path == "-" ? std::string("stdin") : path) + ": " + std::strerror(err);
        close();
        index_ = segments_->size();
        if (status_->cancel)
            status_->cancel();
        return 0;
    }
    void close() {
        if (fd_ >= 0 && fd_ != STDIN_FILENO)
            ::close(fd_);
        fd_ = -1;
    }

    std::shared_ptr<const std::vector<request_plan::segment>> segments_;
    std::shared_ptr<body_status> status_;
    std::size_t index_ = 0;
    std::size_t offset_ = 0; ///< into a literal segment
    int fd_ = -1;
};

} // namespace

request_plan::request_plan(const options& o, const request_plan* credentials_from) {
    // The body, or -G's query.
    bool json = false;
    std::vector<segment> segments;
    for (std::size_t i = 0; i < o.data.size(); ++i) {
        const auto& d = o.data[i];
        json = json || d.how == data_arg::kind::json;
        if (i > 0 && d.how != data_arg::kind::json) // curl: -d pieces joined by &, --json ones concatenated
            segments.push_back({"&", "", false});
        const bool from_file = d.how != data_arg::kind::raw && !d.value.empty() && d.value.front() == '@';
        const std::string option = d.how == data_arg::kind::ascii    ? "--data"
                                   : d.how == data_arg::kind::binary ? "--data-binary"
                                                                     : "--json";
        if (!from_file) {
            segments.push_back({d.value, "", false});
            continue;
        }
        const std::string path = d.value.substr(1);
        if (path.empty())
            throw usage_error(option + " @: expected a file name");
        const bool strip = d.how == data_arg::kind::ascii;
        if (o.get) { // the data goes into the URL: read now
            auto text = read_small_file(option, path);
            segments.push_back({strip ? without_newlines(std::move(text)) : std::move(text), "", false});
            reads_stdin_ = reads_stdin_ || path == "-";
            continue;
        }
        check_readable(option, path);
        reads_stdin_ = reads_stdin_ || path == "-";
        segments.push_back({"", path, strip});
    }
    if (o.get) {
        for (const auto& s : segments)
            query_ += s.text;
    } else if (!o.upload_file.empty()) {
        if (o.upload_file == "-") {
            reads_stdin_ = true;
            body_ = body_kind::stream;
            segments_ = std::make_shared<const std::vector<segment>>(std::vector<segment>{{"", "-", false}});
        } else {
            if (!check_readable("--upload-file", o.upload_file))
                throw usage_error("--upload-file " + o.upload_file + ": not a regular file");
            body_ = body_kind::file;
            file_ = o.upload_file;
            const auto slash = file_.find_last_of('/');
            upload_name_ = slash == std::string::npos ? file_ : file_.substr(slash + 1);
        }
    } else if (!o.data.empty()) {
        const bool all_literal =
            std::all_of(segments.begin(), segments.end(), [](const segment& s) { return s.path.empty(); });
        if (all_literal) {
            body_ = body_kind::memory;
            for (const auto& s : segments)
                memory_ += s.text;
        } else if (segments.size() == 1 && !segments[0].strip_newlines && segments[0].path != "-" &&
                   check_readable("--data-binary", segments[0].path)) {
            body_ = body_kind::file; // a regular file as it is: sent with its Content-Length
            file_ = segments[0].path;
        } else {
            body_ = body_kind::stream;
            segments_ = std::make_shared<const std::vector<segment>>(std::move(segments));
        }
    }

    // The method.
    if (o.method)
        method_ = *o.method;
    else if (o.head)
        method_ = "HEAD";
    else if (!o.upload_file.empty())
        method_ = "PUT";
    else if (!o.data.empty() && !o.get)
        method_ = "POST";
    else
        method_ = "GET";

    // Headers: curl's defaults, replaced or removed by -H ones of the same name.
    header_list defaults;
    defaults.emplace_back("User-Agent",
                          o.user_agent ? *o.user_agent : edgeloop::http::client_options{}.user_agent);
    defaults.emplace_back("Accept", json ? "application/json" : "*/*");
    if (o.referer)
        defaults.emplace_back("Referer", *o.referer);
    if (!o.data.empty() && !o.get)
        defaults.emplace_back("Content-Type",
                              json ? "application/json" : "application/x-www-form-urlencoded");

    // Credentials: an Authorization of our own, unless -H gives one.
    if (credentials_from != nullptr) {
        authorization_ = credentials_from->authorization_;
        netrc_ = credentials_from->netrc_;
    } else if (o.user) {
        const auto colon = o.user->find(':');
        authorization_ = basic(colon == std::string::npos ? *o.user + ":" + ask_password(*o.user) : *o.user);
    } else if (o.bearer) {
        authorization_ = "Bearer " + *o.bearer;
    }
    if (!o.netrc_file.empty() && credentials_from == nullptr)
        netrc_ = read_netrc(o.netrc_file);

    std::vector<std::string> lines;
    for (const auto& h : o.headers) {
        if (h.front() != '@') {
            lines.push_back(h);
            continue;
        }
        const auto path = h.substr(1);
        if (path == "-")
            reads_stdin_ = true;
        const auto text = read_small_file("--header", path);
        for (std::size_t start = 0; start < text.size();) {
            auto end = text.find('\n', start);
            if (end == std::string::npos)
                end = text.size();
            auto line = trim(std::string_view(text).substr(start, end - start));
            if (!line.empty())
                lines.push_back(std::move(line));
            start = end + 1;
        }
    }
    header_list own;
    std::vector<std::string> replaced;
    for (const auto& line : lines) {
        const auto colon = line.find(':');
        std::string name;
        std::string value;
        bool remove = false;
        if (colon == std::string::npos) {
            const auto t = trim(line);
            if (t.empty() || t.back() != ';')
                throw usage_error("--header: expected \"NAME: VALUE\", \"NAME:\" or \"NAME;\", got '" + line +
                                  "'");
            name = trim(std::string_view(t).substr(0, t.size() - 1)); // "NAME;": sent with an empty value
        } else {
            name = trim(std::string_view(line).substr(0, colon));
            value = trim(std::string_view(line).substr(colon + 1));
            remove = value.empty();
        }
        if (name.empty())
            throw usage_error("--header: no name in '" + line + "'");
        if (iequals(name, "host") && remove)
            throw usage_error("--header Host: cannot be removed (HTTP/1.1 requires it)");
        own_authorization_ = own_authorization_ || iequals(name, "authorization");
        replaced.push_back(name);
        if (!remove)
            own.emplace_back(std::move(name), std::move(value));
    }
    for (auto& d : defaults)
        if (std::none_of(replaced.begin(), replaced.end(),
                         [&](const std::string& n) { return iequals(n, d.first); }))
            headers_.push_back(std::move(d));
    for (auto& h : own)
        headers_.push_back(std::move(h));
}

edgeloop::http::request request_plan::make(std::string url,
                                           const std::shared_ptr<body_status>& status) const {
    if (!query_.empty()) {
        const auto hash = url.find('#');
        if (hash != std::string::npos)
            url.erase(hash);
        url += url.find('?') == std::string::npos ? '?' : '&';
        url += query_;
    }
    if (!upload_name_.empty()) {
        // curl: a URL without a file part gets the uploaded file's name.
        const auto authority = url.find("://");
        const auto path = authority == std::string::npos ? std::string::npos : url.find('/', authority + 3);
        const auto query = url.find_first_of("?#", path == std::string::npos ? 0 : path);
        if (path == std::string::npos)
            url.insert(query == std::string::npos ? url.size() : query, "/" + upload_name_);
        else if (const auto end = query == std::string::npos ? url.size() : query; url[end - 1] == '/')
            url.insert(end, upload_name_);
    }
    edgeloop::http::request req;
    req.method = method_;
    req.url = std::move(url);
    req.headers = headers_;
    if (!own_authorization_) {
        std::string auth = authorization_;
        if (auth.empty() && !netrc_.empty()) {
            std::string host;
            if (auto u = boost::urls::parse_uri(req.url))
                host = u->host();
            // The first entry for the host, else the default one.
            const netrc_entry* match = nullptr;
            for (const auto& e : netrc_)
                if (!e.machine.empty() && iequals(e.machine, host)) {
                    match = &e;
                    break;
                }
            for (const auto& e : netrc_)
                if (match == nullptr && e.machine.empty())
                    match = &e;
            if (match != nullptr && !match->login.empty())
                auth = basic(match->login + ":" + match->password);
        }
        if (!auth.empty())
            req.headers.emplace_back("Authorization", std::move(auth));
    }
    switch (body_) {
    case body_kind::none:
        break;
    case body_kind::memory:
        req.body = memory_;
        status->upload_bytes = memory_.size();
        break;
    case body_kind::file: {
        req.body_file = file_;
        struct stat st {};
        if (::stat(file_.c_str(), &st) == 0)
            status->upload_bytes = static_cast<std::uint64_t>(st.st_size);
        break;
    }
    case body_kind::stream: {
        auto streamer = std::make_shared<body_streamer>(segments_, status);
        req.body_source = [streamer](std::span<std::byte> buffer) { return streamer->fill(buffer); };
        break;
    }
    }
    return req;
}

} // namespace multi_fetch
