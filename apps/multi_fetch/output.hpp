#pragma once

// Where multi_fetch puts bodies: prefixed lines on stdout, or one file per transfer.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace multi_fetch {

/// Writes a transfer's body to stdout as it arrives, each line prefixed "[n] ". Only whole lines are
/// written (so concurrent transfers never split each other's lines), except that a line longer than
/// the limit is written in pieces.
class line_printer {
public:
    explicit line_printer(std::size_t id);
    void feed(std::span<const std::byte> bytes);
    /// Writes what is left of an unfinished last line.
    void flush();
    const std::string& prefix() const noexcept { return prefix_; }

private:
    void emit(std::string_view line);

    static constexpr std::size_t max_line_ = 4096;
    std::string prefix_;
    std::string pending_;
};

/// The URL's last path segment made of safe characters only (others become '_'; never hidden, never
/// "." or ".."), or "" when the URL has no file name (-O).
std::string url_file_name(std::string_view url);

/// `path` when no such file exists, else the first free of path.1 ... path.100 (curl --no-clobber);
/// "" when all are taken.
std::string unclobbered(const std::string& path);

/// Picks unique file names in one directory for one run.
class name_picker {
public:
    explicit name_picker(std::string dir)
        : dir_(std::move(dir)) {}
    /// A path in the directory named after the URL's last path segment ("index.html" for "/"), made of
    /// safe characters only, and not used before by this run nor present on disk.
    /// With `resume` (-C -), a name whose ".part" exists (and not the name itself) is taken, to resume.
    std::string pick(std::string_view url, bool resume = false);

private:
    std::string dir_;
    std::set<std::string> used_;
};

/// A body written to "<final>.part" and renamed to <final> only when the transfer completed, so that
/// a failed transfer never leaves a file that looks whole. An existing <final> that is not a regular
/// file (/dev/null, a FIFO) is written directly.
class file_sink {
public:
    /// `resume` (-C -): an existing "<final>.part" is kept and appended to (resumed_bytes() its size).
    explicit file_sink(std::string final_path, bool resume = false);
    file_sink(const file_sink&) = delete;
    file_sink& operator=(const file_sink&) = delete;
    /// Removes the partial file when neither commit() nor discard() ran.
    ~file_sink();

    /// Empty when the file could not be created; the reason is in error().
    bool ok() const noexcept { return file_ != nullptr && error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    const std::string& path() const noexcept { return final_; }
    void write(std::span<const std::byte> bytes);
    /// The size the ".part" file had when it was resumed (0: a new file).
    std::uint64_t resumed_bytes() const noexcept { return resumed_; }
    const std::string& part_path() const noexcept { return part_; }
    /// The body starts again at `offset`: the file is cut there (http::handlers::on_body_rewind).
    void rewind(std::uint64_t offset);
    /// Closes the ".part" file and leaves it for a later -C - run (a transfer cut off).
    void keep_part();
    /// Renames the complete body into place. False (with error()) if writing or renaming failed.
    bool commit();
    void discard();

private:
    std::string final_;
    std::string part_;
    std::FILE* file_ = nullptr;
    std::string error_;
    bool direct_ = false;
    std::uint64_t resumed_ = 0;
};

} // namespace multi_fetch
