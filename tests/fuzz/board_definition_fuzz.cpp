// board_definition_fuzz: hardware definition loading (boards::resolve_definition) from an in-memory
// reader. Input: up to four files separated by NUL bytes: defs/root.json, defs/a.json, defs/b.json,
// defs/sub/c.json; "builtin:" paths read the compiled-in definitions. Invariants: a bad definition throws
// definition_error and nothing else; a resolved one has sorted, unique names, each found by find(), each
// with a non-empty chain ending in a concrete line of a known driver, and the root listed first.

#include "fuzz_check.hpp"

#include <edgeloop/boards/definition.hpp>

#include <algorithm>
#include <array>
#include <map>

namespace {

constexpr std::array<const char*, 4> file_names{"defs/root.json", "defs/a.json", "defs/b.json",
                                                "defs/sub/c.json"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace edgeloop::boards;
    const auto parts = fuzz::split(fuzz::as_text(data, size), '\0');
    std::map<std::string, std::string> files;
    for (std::size_t i = 0; i < parts.size() && i < file_names.size(); ++i)
        files[file_names[i]] = parts[i];
    const auto builtin = default_file_reader(); // only asked for "builtin:" paths below
    std::size_t reads = 0;
    const file_reader reader = [&](const std::string& path) -> std::optional<std::string> {
        ++reads;
        if (path.rfind(builtin_prefix, 0) == 0)
            return builtin(path);
        if (auto it = files.find(path); it != files.end())
            return it->second;
        return std::nullopt;
    };

    try {
        const definition def = resolve_definition(file_names[0], reader);
        FUZZ_CHECK(!def.files.empty() && def.files.front() == def.file);
        FUZZ_CHECK(def.files.size() <= reads);
        FUZZ_CHECK(std::is_sorted(def.lines.begin(), def.lines.end(),
                                  [](const line_spec& a, const line_spec& b) { return a.name < b.name; }));
        for (std::size_t i = 0; i < def.lines.size(); ++i) {
            const auto& l = def.lines[i];
            FUZZ_CHECK(i == 0 || def.lines[i - 1].name != l.name);
            FUZZ_CHECK(def.find(l.name) == &l);
            FUZZ_CHECK(!l.chain.empty() && l.chain.front() == l.name);
            FUZZ_CHECK(l.driver == "sim" || l.driver == "linux");
            FUZZ_CHECK(l.debounce.count() >= 0);
            (void)to_string(l.bias);
        }
        FUZZ_CHECK(def.names().size() == def.lines.size());
    } catch (const definition_error& e) {
        FUZZ_CHECK(!e.file().empty());
        FUZZ_CHECK(std::string_view(e.what()).find(e.file()) == 0);
    }
    return 0;
}
