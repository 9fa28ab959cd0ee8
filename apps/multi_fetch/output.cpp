#include "output.hpp"

#include <boost/url/parse.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

namespace multi_fetch {

line_printer::line_printer(std::size_t id)
    : prefix_(std::string("[").append(std::to_string(id)).append("] ")) {} // GCC bug 105651, as below

void line_printer::feed(std::span<const std::byte> bytes) {
    pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
        emit(std::string_view(pending_).substr(start, nl + 1 - start));
    pending_.erase(0, start);
    if (pending_.size() >= max_line_) {
        pending_ += '\n';
        emit(pending_);
        pending_.clear();
    }
    std::fflush(stdout);
}

void line_printer::flush() {
    if (!pending_.empty()) {
        pending_ += '\n';
        emit(pending_);
    }
    pending_.clear();
    std::fflush(stdout);
}

void line_printer::emit(std::string_view line) {
    std::fwrite(prefix_.data(), 1, prefix_.size(), stdout);
    std::fwrite(line.data(), 1, line.size(), stdout);
}

std::string url_file_name(std::string_view url) {
    std::string base;
    if (auto u = boost::urls::parse_uri(url)) {
        const auto segs = u->segments();
        if (!segs.empty())
            base = std::string(segs.back());
    }
    for (char& c : base)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
            c = '_';
    if (base == "." || base == "..")
        return {};
    if (!base.empty() && base.front() == '.')
        // Never a hidden file, never clashes with our ".part" names. Not base.insert(0, "_"): at -O3 GCC
        // 12 warns of an overlapping memcpy that cannot happen (-Wrestrict, GCC bug 105651).
        base = std::string("_").append(base);
    return base;
}

std::string unclobbered(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec)
        return path;
    for (int n = 1; n <= 100; ++n) {
        auto candidate = path + "." + std::to_string(n);
        if (!std::filesystem::exists(candidate, ec) && !ec)
            return candidate;
    }
    return {};
}

std::string name_picker::pick(std::string_view url, bool resume) {
    std::string base = url_file_name(url);
    if (base.empty())
        base = "index.html";
    std::string name = base;
    // A ".part" file is a body being written (for -o/-O, say) under that name.
    // With resume, a ".part" of an earlier run is what this run continues.
    for (int n = 1; used_.count(name) || std::filesystem::exists(dir_ + "/" + name) ||
                    (!resume && std::filesystem::exists(dir_ + "/" + name + ".part"));
         ++n)
        name = base + "." + std::to_string(n);
    used_.insert(name);
    return dir_ + "/" + name;
}

file_sink::file_sink(std::string final_path, bool resume)
    : final_(std::move(final_path))
    , part_(final_ + ".part") {
    // An existing non-regular file (/dev/null, a FIFO) is written as it is: nothing to rename over it.
    struct stat st {};
    if (::stat(final_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        direct_ = true;
        part_ = final_;
        file_ = std::fopen(final_.c_str(), "wb");
    } else if (resume && ::stat(part_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        resumed_ = static_cast<std::uint64_t>(st.st_size); // -C -: what an interrupted run left
        file_ = std::fopen(part_.c_str(), "ab");
    } else {
        file_ = std::fopen(part_.c_str(), "wbx");
    }
    if (file_ == nullptr)
        error_ = part_ + ": " + std::strerror(errno);
}

file_sink::~file_sink() {
    discard();
}

void file_sink::write(std::span<const std::byte> bytes) {
    if (file_ == nullptr || !error_.empty())
        return;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
        error_ = part_ + ": " + std::strerror(errno);
}

void file_sink::rewind(std::uint64_t offset) {
    if (file_ == nullptr || !error_.empty())
        return;
    if (std::fflush(file_) != 0 || ::ftruncate(::fileno(file_), static_cast<off_t>(offset)) != 0 ||
        std::fseek(file_, 0, SEEK_END) != 0)
        error_ = part_ + ": " + std::strerror(errno);
}

void file_sink::keep_part() {
    if (file_ == nullptr)
        return;
    // An empty .part is the start of nothing (a 304, or a cut before the first byte): not kept.
    struct stat st {};
    const bool empty = std::fflush(file_) == 0 && ::fstat(::fileno(file_), &st) == 0 && st.st_size == 0;
    std::fclose(file_);
    file_ = nullptr;
    if (empty && !direct_)
        std::remove(part_.c_str());
}

bool file_sink::commit() {
    if (file_ == nullptr)
        return false;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!closed && error_.empty())
        error_ = part_ + ": " + std::strerror(errno);
    if (error_.empty() && !direct_ && std::rename(part_.c_str(), final_.c_str()) != 0)
        error_ = final_ + ": " + std::strerror(errno);
    if (!error_.empty()) {
        if (!direct_)
            std::remove(part_.c_str());
        return false;
    }
    return true;
}

void file_sink::discard() {
    if (file_ == nullptr)
        return;
    std::fclose(file_);
    file_ = nullptr;
    if (!direct_)
        std::remove(part_.c_str());
}

} // namespace multi_fetch
