#include <edgeloop/boards/definition.hpp>

#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace edgeloop::boards {

namespace json = boost::json;

namespace {

constexpr std::string_view metadata_type = "Edgeloop Hardware Definition";
constexpr std::int64_t max_line = 65535; // the kernel's gpio_chip::ngpio is a u16
constexpr std::int64_t max_debounce_ms = 60000;

constexpr std::array<std::string_view, 3> top_fields{"Metadata", "Imports", "Peripherals"};
constexpr std::array<std::string_view, 4> metadata_fields{"Type", "Version", "Name", "Description"};
constexpr std::array<std::string_view, 2> import_fields{"Path", "Comment"};
constexpr std::array<std::string_view, 12> peripheral_fields{"Name",   "Type",       "Comment",   "Mapping",
                                                             "Driver", "Chip",       "Line",      "ActiveLow",
                                                             "Bias",   "DebounceMs", "Direction", "Key"};
constexpr std::array<std::string_view, 2> drivers{"linux", "sim"};

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& items) {
    std::string out;
    for (auto s : items)
        out += (out.empty() ? "" : ", ") + std::string(s);
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& s : items)
        out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

/// A peripheral as written in one file, before resolution.
struct peripheral {
    std::string name;
    std::string file;
    std::string path; ///< "$.Peripherals[i]"
    std::optional<std::string> mapping;
    std::optional<std::string> driver;
    std::vector<std::string> chips;
    std::optional<std::uint32_t> line;
    std::optional<bool> active_low;
    std::optional<line_bias> bias;
    std::optional<std::chrono::milliseconds> debounce;
    std::optional<line_direction> direction;
    std::optional<std::string> key;
    std::optional<std::string> comment;
};

bool is_builtin(const std::string& path) {
    return path.rfind(builtin_prefix, 0) == 0;
}

/// Loads files depth first (imports before the importer's peripherals) and collects the peripherals.
class loader {
public:
    explicit loader(const file_reader& read)
        : read_(read) {}

    definition run(const std::string& given) {
        const std::string root =
            is_builtin(given) ? given : std::filesystem::path(given).lexically_normal().string();
        const auto text = read_(root);
        if (!text)
            throw definition_error(root, "", "no such file");
        load(root, *text);
        definition def;
        def.file = root;
        def.files = files_;
        def.name = root_name_;
        for (const auto& [name, p] : peripherals_)
            def.lines.push_back(resolve(p));
        return def;
    }

private:
    [[noreturn]] void fail(const std::string& file, const std::string& path,
                           const std::string& reason) const {
        throw definition_error(file, path, reason);
    }

    json::value parse(const std::string& file, const std::string& text) const {
        json::parse_options opts;
        opts.allow_comments = true; // definitions are hand-written: let people say why a pin is used
        opts.allow_trailing_commas = true;
        json::stream_parser p({}, opts);
        boost::system::error_code ec;
        const std::size_t used = p.write_some(text.data(), text.size(), ec);
        if (!ec)
            p.finish(ec);
        if (ec) {
            // Boost.JSON reports how far it got: turn that into line and column for the message.
            const auto upto = std::string_view(text).substr(0, std::min(used, text.size()));
            const auto line = std::count(upto.begin(), upto.end(), '\n') + 1;
            const auto nl = upto.rfind('\n');
            const auto column = upto.size() - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
            fail(file, "",
                 "not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
                     ": " + ec.message());
        }
        return p.release();
    }

    template <std::size_t N>
    void check_fields(const std::string& file, const std::string& path, const json::object& o,
                      const std::array<std::string_view, N>& known) const {
        for (const auto& kv : o) {
            if (std::find(known.begin(), known.end(), std::string_view(kv.key())) == known.end())
                fail(file, path + "." + std::string(kv.key()),
                     "unknown field '" + std::string(kv.key()) + "' (known: " + join(known) + ")");
        }
    }

    const json::object& as_object(const std::string& file, const std::string& path,
                                  const json::value& v) const {
        if (!v.is_object())
            fail(file, path, "expected an object");
        return v.get_object();
    }

    std::string as_string(const std::string& file, const std::string& path, const json::value& v,
                          bool allow_empty = false) const {
        if (!v.is_string())
            fail(file, path, "expected a string, got " + json::serialize(v));
        std::string s(v.get_string());
        if (s.empty() && !allow_empty)
            fail(file, path, "must not be empty");
        return s;
    }

    bool as_bool(const std::string& file, const std::string& path, const json::value& v) const {
        if (!v.is_bool())
            fail(file, path, "expected true or false, got " + json::serialize(v));
        return v.get_bool();
    }

    std::optional<std::int64_t> as_integer(const json::value& v) const {
        if (v.is_int64())
            return v.get_int64();
        if (v.is_uint64())
            return v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)
                       ? std::optional<std::int64_t>()
                       : static_cast<std::int64_t>(v.get_uint64());
        return std::nullopt;
    }

    void load(const std::string& file, const std::string& text) {
        stack_.push_back(file);
        loaded_.insert(file);
        files_.push_back(file);
        const json::value doc = parse(file, text);
        const auto& top = as_object(file, "$", doc);
        check_fields(file, "$", top, top_fields);

        const auto* meta = top.if_contains("Metadata");
        if (!meta)
            fail(file, "$",
                 "no Metadata (expected {\"Type\": \"" + std::string(metadata_type) + "\", \"Version\": 1})");
        const auto& m = as_object(file, "$.Metadata", *meta);
        check_fields(file, "$.Metadata", m, metadata_fields);
        const auto* type = m.if_contains("Type");
        if (!type || !type->is_string() || type->get_string() != metadata_type)
            fail(file, "$.Metadata.Type", "expected \"" + std::string(metadata_type) + "\"");
        const auto* version = m.if_contains("Version");
        if (!version || as_integer(*version) != 1)
            fail(file, "$.Metadata.Version",
                 "unsupported version " + (version ? json::serialize(*version) : "(none)") + " (expected 1)");
        if (files_.size() == 1) {
            if (const auto* name = m.if_contains("Name"))
                root_name_ = as_string(file, "$.Metadata.Name", *name);
            else
                root_name_ = std::filesystem::path(file.substr(is_builtin(file) ? builtin_prefix.size() : 0))
                                 .stem()
                                 .string();
        }

        if (const auto* imports = top.if_contains("Imports")) {
            if (!imports->is_array())
                fail(file, "$.Imports", "expected an array of {\"Path\": ...}");
            std::size_t i = 0;
            for (const auto& imp : imports->get_array()) {
                const std::string path = "$.Imports[" + std::to_string(i++) + "]";
                const auto& o = as_object(file, path, imp);
                check_fields(file, path, o, import_fields);
                const auto* p = o.if_contains("Path");
                if (!p)
                    fail(file, path, "no Path");
                import(file, path + ".Path", as_string(file, path + ".Path", *p));
            }
        }

        if (const auto* peripherals = top.if_contains("Peripherals")) {
            if (!peripherals->is_array())
                fail(file, "$.Peripherals", "expected an array");
            std::size_t i = 0;
            for (const auto& v : peripherals->get_array())
                add(parse_peripheral(file, "$.Peripherals[" + std::to_string(i++) + "]", v));
        }
        stack_.pop_back();
    }

    void import(const std::string& importer, const std::string& path, const std::string& target) {
        std::vector<std::string> candidates;
        const bool bare = target.find('/') == std::string::npos;
        if (is_builtin(importer)) {
            if (bare)
                candidates.push_back(std::string(builtin_prefix) + target);
        } else {
            const auto base = std::filesystem::path(importer).parent_path();
            // An absolute target replaces the base (std::filesystem::path::operator/).
            candidates.push_back((base / target).lexically_normal().string());
            if (bare)
                candidates.push_back(std::string(builtin_prefix) + target);
        }
        for (const auto& c : candidates) {
            if (std::find(stack_.begin(), stack_.end(), c) != stack_.end()) {
                auto chain =
                    std::vector<std::string>(std::find(stack_.begin(), stack_.end(), c), stack_.end());
                chain.push_back(c);
                fail(importer, path, "import cycle: " + join(chain, " -> "));
            }
            if (loaded_.count(c) != 0)
                return; // imported twice through different files: once is enough
            if (auto text = read_(c)) {
                load(c, *text);
                return;
            }
        }
        fail(importer, path, "import '" + target + "' not found (looked for " + join(candidates, ", ") + ")");
    }

    peripheral parse_peripheral(const std::string& file, const std::string& path,
                                const json::value& v) const {
        const auto& o = as_object(file, path, v);
        check_fields(file, path, o, peripheral_fields);
        peripheral p;
        p.file = file;
        p.path = path;
        const auto* name = o.if_contains("Name");
        if (!name)
            fail(file, path, "no Name");
        p.name = as_string(file, path + ".Name", *name);
        if (!std::all_of(p.name.begin(), p.name.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            }))
            fail(file, path + ".Name", "bad name '" + p.name + "' (letters, digits and _ only)");
        if (const auto* type = o.if_contains("Type")) {
            const auto t = as_string(file, path + ".Type", *type);
            if (t != "Gpio")
                fail(file, path + ".Type", "unsupported peripheral type '" + t + "' (only Gpio)");
        }
        if (const auto* c = o.if_contains("Comment"))
            p.comment = as_string(file, path + ".Comment", *c, true);
        if (const auto* m = o.if_contains("Mapping"))
            p.mapping = as_string(file, path + ".Mapping", *m);
        if (const auto* d = o.if_contains("Driver")) {
            p.driver = as_string(file, path + ".Driver", *d);
            if (std::find(drivers.begin(), drivers.end(), *p.driver) == drivers.end())
                fail(file, path + ".Driver",
                     "unknown driver '" + *p.driver + "' (known: " + join(drivers) + ")");
        }
        if (p.mapping && p.driver)
            fail(file, path,
                 "has both Mapping and Driver (a name is either another name or a concrete line)");
        if (!p.mapping && !p.driver)
            fail(file, path, "needs a Driver (a concrete line) or a Mapping (another name)");
        if (const auto* line = o.if_contains("Line")) {
            if (p.mapping)
                fail(file, path + ".Line", "Line belongs to a concrete line, not to a Mapping");
            const auto n = as_integer(*line);
            if (!n || *n < 0 || *n > max_line)
                fail(file, path + ".Line",
                     "bad line number " + json::serialize(*line) + " (expected an integer 0.." +
                         std::to_string(max_line) + ")");
            p.line = static_cast<std::uint32_t>(*n);
        } else if (p.driver) {
            fail(file, path, "a Driver needs a Line (the line offset on its chip)");
        }
        if (const auto* chip = o.if_contains("Chip")) {
            if (p.driver != "linux")
                fail(file, path + ".Chip", "Chip belongs to a concrete line of the linux driver");
            if (chip->is_array()) {
                std::size_t i = 0;
                for (const auto& c : chip->get_array())
                    p.chips.push_back(as_string(file, path + ".Chip[" + std::to_string(i++) + "]", c));
                if (p.chips.empty())
                    fail(file, path + ".Chip", "must not be empty");
            } else {
                p.chips.push_back(as_string(file, path + ".Chip", *chip));
            }
        } else if (p.driver == "linux") {
            fail(file, path, "a linux line needs a Chip (a path such as /dev/gpiochip0, or a chip label)");
        }
        if (const auto* a = o.if_contains("ActiveLow"))
            p.active_low = as_bool(file, path + ".ActiveLow", *a);
        if (const auto* b = o.if_contains("Bias")) {
            const auto s = as_string(file, path + ".Bias", *b);
            if (s == "as-is")
                p.bias = line_bias::as_is;
            else if (s == "disabled")
                p.bias = line_bias::disabled;
            else if (s == "pull-up")
                p.bias = line_bias::pull_up;
            else if (s == "pull-down")
                p.bias = line_bias::pull_down;
            else
                fail(file, path + ".Bias",
                     "unknown bias '" + s + "' (known: as-is, disabled, pull-up, pull-down)");
        }
        if (const auto* d = o.if_contains("DebounceMs")) {
            const auto n = as_integer(*d);
            if (!n || *n < 0 || *n > max_debounce_ms)
                fail(file, path + ".DebounceMs",
                     "bad debounce " + json::serialize(*d) + " (expected milliseconds 0.." +
                         std::to_string(max_debounce_ms) + ")");
            p.debounce = std::chrono::milliseconds(*n);
        }
        if (const auto* d = o.if_contains("Direction")) {
            const auto s = as_string(file, path + ".Direction", *d);
            if (s == "input")
                p.direction = line_direction::input;
            else if (s == "output")
                p.direction = line_direction::output;
            else
                fail(file, path + ".Direction", "unknown direction '" + s + "' (known: input, output)");
        }
        if (const auto* k = o.if_contains("Key")) {
            const auto s = as_string(file, path + ".Key", *k);
            if (s.size() != 1 || s[0] < '!' || s[0] > '~')
                fail(file, path + ".Key", "expected one printable character, got '" + s + "'");
            p.key = s;
        }
        return p;
    }

    void add(peripheral p) {
        if (auto it = peripherals_.find(p.name); it != peripherals_.end())
            fail(p.file, p.path + ".Name",
                 "duplicate name '" + p.name + "' (first defined in " + it->second.file + " " +
                     it->second.path + ")");
        peripherals_.emplace(p.name, std::move(p));
    }

    line_spec resolve(const peripheral& start) const {
        std::vector<const peripheral*> chain{&start};
        while (chain.back()->mapping) {
            const auto& target = *chain.back()->mapping;
            const auto it = peripherals_.find(target);
            if (it == peripherals_.end())
                fail(chain.back()->file, chain.back()->path + ".Mapping",
                     "maps to unknown name '" + target + "'");
            if (std::find(chain.begin(), chain.end(), &it->second) != chain.end()) {
                std::vector<std::string> names;
                for (const auto* p : chain)
                    names.push_back(p->name);
                names.push_back(target);
                fail(start.file, start.path + ".Mapping", "mapping cycle: " + join(names, " -> "));
            }
            chain.push_back(&it->second);
        }
        const peripheral& concrete = *chain.back();
        line_spec s;
        s.name = start.name;
        for (const auto* p : chain)
            s.chain.push_back(p->name);
        s.driver = *concrete.driver;
        s.chips = concrete.chips;
        s.line = *concrete.line;
        s.source = concrete.file + " " + concrete.path;
        // From the concrete line outwards: what a Mapping says wins over what it maps to.
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            const peripheral& p = **it;
            if (p.active_low)
                s.active_low = *p.active_low;
            if (p.bias)
                s.bias = *p.bias;
            if (p.debounce)
                s.debounce = *p.debounce;
            if (p.direction)
                s.direction = *p.direction;
            if (p.key)
                s.key = *p.key;
            if (p.comment)
                s.comment = *p.comment;
        }
        return s;
    }

    const file_reader& read_;
    std::vector<std::string> stack_;
    std::set<std::string> loaded_;
    std::vector<std::string> files_;
    std::string root_name_;
    std::map<std::string, peripheral> peripherals_;
};

} // namespace

const char* to_string(line_bias b) noexcept {
    switch (b) {
    case line_bias::as_is:
        return "as-is";
    case line_bias::disabled:
        return "disabled";
    case line_bias::pull_up:
        return "pull-up";
    case line_bias::pull_down:
        return "pull-down";
    }
    return "?";
}

const char* to_string(line_direction d) noexcept {
    return d == line_direction::input ? "input" : "output";
}

const line_spec* definition::find(std::string_view line_name) const noexcept {
    const auto it = std::lower_bound(lines.begin(), lines.end(), line_name,
                                     [](const line_spec& s, std::string_view n) { return s.name < n; });
    return it != lines.end() && it->name == line_name ? &*it : nullptr;
}

std::vector<std::string> definition::names() const {
    std::vector<std::string> out;
    for (const auto& l : lines)
        out.push_back(l.name);
    return out;
}

definition resolve_definition(const std::string& root, const file_reader& read) {
    return loader(read).run(root);
}

file_reader default_file_reader() {
    return [](const std::string& path) -> std::optional<std::string> {
        if (is_builtin(path)) {
            auto name = path.substr(builtin_prefix.size());
            if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)
                name.resize(name.size() - 5);
            for (const auto& [n, text] : builtin_definitions())
                if (n == name)
                    return text;
            return std::nullopt;
        }
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (!std::filesystem::exists(status))
            return std::nullopt;
        if (std::filesystem::is_directory(status))
            throw definition_error(path, "", "is a directory, not a definition file");
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw definition_error(path, "", std::string("cannot read: ") + std::strerror(errno));
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    };
}

definition load_definition(std::string_view name_or_file) {
    const std::string arg(name_or_file);
    const bool is_file = arg.find('/') != std::string::npos ||
                         (arg.size() > 5 && arg.compare(arg.size() - 5, 5, ".json") == 0);
    if (is_file)
        return resolve_definition(arg, default_file_reader());
    std::vector<std::string> names;
    for (const auto& [n, text] : builtin_definitions()) {
        if (n == arg)
            return resolve_definition(std::string(builtin_prefix) + arg + ".json", default_file_reader());
        names.push_back(n);
    }
    throw definition_error(
        arg, "", "unknown board (built-in: " + join(names, ", ") + "; or give the path of a .json file)");
}

} // namespace edgeloop::boards
