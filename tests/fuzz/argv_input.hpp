#pragma once

// An argv built from a fuzz input: one argument per line, after argv[0]. A line "@@" ends the
// arguments; the bytes after it are written to a scratch file, and an argument "u" is replaced by that
// file's path, so "-K u" (or any option reading a file) reads fuzzed content. Inputs with an argument
// containing '/' are not run, so no option can read or block on a real file elsewhere (/dev/stdin).

#include "fuzz_check.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fuzz {

class argv_input {
public:
    argv_input(const std::uint8_t* data, std::size_t size) {
        auto text = as_text(data, size);
        std::string_view file_content;
        if (const auto at = text.find("\n@@\n"); at != std::string_view::npos) {
            file_content = text.substr(at + 4);
            text = text.substr(0, at);
        }
        args_.emplace_back("app");
        if (!text.empty())
            for (auto& a : split(text, '\n'))
                args_.push_back(std::move(a));
        for (const auto& a : args_)
            usable_ = usable_ && a.find('/') == std::string::npos;
        const auto& file = scratch_file();
        std::ofstream(file, std::ios::binary | std::ios::trunc)
            .write(file_content.data(), static_cast<std::streamsize>(file_content.size()));
        for (auto& a : args_)
            if (a == "u")
                a = file;
        for (const auto& a : args_)
            argv_.push_back(a.c_str()); // stops at an embedded NUL, as a real argv would
        argv_.push_back(nullptr);
    }

    /// False when an argument contains '/': such inputs are not run.
    bool usable() const noexcept { return usable_; }
    int argc() const noexcept { return static_cast<int>(args_.size()); }
    const char* const* argv() const noexcept { return argv_.data(); }

private:
    /// A file in a directory of this process's own, removed at exit.
    static const std::string& scratch_file() {
        struct scratch {
            std::filesystem::path dir =
                std::filesystem::temp_directory_path() / ("edgeloop-fuzz-argv-" + std::to_string(::getpid()));
            std::string file = (create(dir) / "u").string();
            static const std::filesystem::path& create(const std::filesystem::path& d) {
                std::filesystem::create_directories(d);
                return d;
            }
            ~scratch() {
                std::error_code ignored;
                std::filesystem::remove_all(dir, ignored);
            }
        };
        static const scratch s;
        return s.file;
    }

    std::vector<std::string> args_;
    std::vector<const char*> argv_;
    bool usable_ = true;
};

} // namespace fuzz
