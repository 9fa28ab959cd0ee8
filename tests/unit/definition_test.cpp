// Hardware definition resolution: imports, mappings, overrides, and every error with its file and JSON path.
#include <edgeloop/boards/definition.hpp>

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

namespace boards = edgeloop::boards;
using namespace std::chrono_literals;

namespace {

using files = std::map<std::string, std::string>;

boards::file_reader reader(const files& fs) {
    return [fs](const std::string& path) -> std::optional<std::string> {
        if (auto it = fs.find(path); it != fs.end())
            return it->second;
        return std::nullopt;
    };
}

/// A definition file: Metadata, the given imports and peripherals (JSON text of the arrays' contents).
std::string def(const std::string& peripherals, const std::string& imports = "") {
    std::string s = R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1},)";
    if (!imports.empty())
        s += R"("Imports": [)" + imports + "],";
    s += R"("Peripherals": [)" + peripherals + "]}";
    return s;
}

std::string import(const std::string& path) {
    return R"({"Path": ")" + path + R"("})";
}

const std::string sim_led = R"({"Name": "LED1", "Type": "Gpio", "Driver": "sim", "Line": 8})";

/// Resolves and returns the definition_error, failing the test when there is none.
boards::definition_error error_of(const files& fs, const std::string& root) {
    try {
        boards::resolve_definition(root, reader(fs));
    } catch (const boards::definition_error& e) {
        return e;
    }
    BOOST_FAIL("no definition_error for " << root);
    throw std::logic_error("unreachable");
}

struct error_case {
    std::string name;
    files fs;
    std::string root;
    std::string file;      ///< expected definition_error::file()
    std::string json_path; ///< expected definition_error::json_path()
    std::string reason;    ///< expected part of what()
};

std::string peripheral_with(const std::string& fields) {
    return R"({"Name": "X", "Type": "Gpio", )" + fields + "}";
}

const std::vector<error_case> error_cases{
    {"root file missing", {}, "nope.json", "nope.json", "", "no such file"},
    {"not JSON",
     {{"a.json", "{\n  \"Metadata\": {\n  oops"}},
     "a.json",
     "a.json",
     "",
     "not valid JSON at line 3"},
    {"not an object", {{"a.json", "[]"}}, "a.json", "a.json", "$", "expected an object"},
    {"no Metadata", {{"a.json", R"({"Peripherals": []})"}}, "a.json", "a.json", "$", "no Metadata"},
    {"wrong Metadata type",
     {{"a.json", R"({"Metadata": {"Type": "Azure Sphere Hardware Definition", "Version": 1}})"}},
     "a.json",
     "a.json",
     "$.Metadata.Type",
     "Edgeloop Hardware Definition"},
    {"unsupported version",
     {{"a.json", R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 2}})"}},
     "a.json",
     "a.json",
     "$.Metadata.Version",
     "unsupported version 2"},
    {"unknown top-level field",
     {{"a.json",
       R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1}, "Peripheral": []})"}},
     "a.json",
     "a.json",
     "$.Peripheral",
     "unknown field 'Peripheral'"},
    {"missing import",
     {{"app.json", def(sim_led, import("board.json"))}},
     "app.json",
     "app.json",
     "$.Imports[0].Path",
     "import 'board.json' not found (looked for board.json, builtin:board.json)"},
    {"import cycle",
     {{"a.json", def("", import("b.json"))}, {"b.json", def("", import("a.json"))}},
     "a.json",
     "b.json",
     "$.Imports[0].Path",
     "import cycle: a.json -> b.json -> a.json"},
    {"file importing itself",
     {{"dir/a.json", def("", import("./a.json"))}},
     "dir/a.json",
     "dir/a.json",
     "$.Imports[0].Path",
     "import cycle: dir/a.json -> dir/a.json"},
    {"import without Path", {{"a.json", def("", "{}")}}, "a.json", "a.json", "$.Imports[0]", "no Path"},
    {"Imports not an array",
     {{"a.json",
       R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1}, "Imports": "b.json"})"}},
     "a.json",
     "a.json",
     "$.Imports",
     "expected an array"},
    {"unknown driver",
     {{"a.json", def(peripheral_with(R"("Driver": "gpiod", "Line": 1)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Driver",
     "unknown driver 'gpiod' (known: linux, sim)"},
    {"duplicate name in one file",
     {{"a.json", def(sim_led + "," + sim_led)}},
     "a.json",
     "a.json",
     "$.Peripherals[1].Name",
     "duplicate name 'LED1' (first defined in a.json $.Peripherals[0])"},
    {"duplicate name across an import",
     {{"app.json", def(sim_led, import("board.json"))}, {"board.json", def(sim_led)}},
     "app.json",
     "app.json",
     "$.Peripherals[0].Name",
     "duplicate name 'LED1' (first defined in board.json $.Peripherals[0])"},
    {"negative line number",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": -1)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Line",
     "bad line number -1 (expected an integer 0..65535)"},
    {"line number too large",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 65536)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Line",
     "bad line number 65536"},
    {"fractional line number",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1.5)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Line",
     "bad line number 1.5"},
    {"line number as a string",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": "12")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Line",
     "bad line number \"12\""},
    {"driver without a line",
     {{"a.json", def(peripheral_with(R"("Driver": "sim")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0]",
     "a Driver needs a Line"},
    {"linux line without a chip",
     {{"a.json", def(peripheral_with(R"("Driver": "linux", "Line": 3)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0]",
     "a linux line needs a Chip"},
    {"chip on a sim line",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 3, "Chip": "/dev/gpiochip0")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Chip",
     "Chip belongs to a concrete line of the linux driver"},
    {"empty chip list",
     {{"a.json", def(peripheral_with(R"("Driver": "linux", "Line": 3, "Chip": [])"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Chip",
     "must not be empty"},
    {"mapping to an unknown name",
     {{"a.json", def(R"({"Name": "BUTTON_A", "Mapping": "GPIO99"})")}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Mapping",
     "maps to unknown name 'GPIO99'"},
    {"mapping cycle",
     {{"a.json", def(R"({"Name": "A", "Mapping": "B"}, {"Name": "B", "Mapping": "A"})")}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Mapping",
     "mapping cycle: A -> B -> A"},
    {"mapping and driver together",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "Mapping": "Y")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0]",
     "has both Mapping and Driver"},
    {"neither mapping nor driver",
     {{"a.json", def(peripheral_with(R"("ActiveLow": true)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0]",
     "needs a Driver"},
    {"line on a mapping",
     {{"a.json", def(sim_led + "," + peripheral_with(R"("Mapping": "LED1", "Line": 2)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[1].Line",
     "Line belongs to a concrete line"},
    {"misspelt field",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "Activelow": true)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Activelow",
     "unknown field 'Activelow'"},
    {"no name",
     {{"a.json", def(R"({"Driver": "sim", "Line": 1})")}},
     "a.json",
     "a.json",
     "$.Peripherals[0]",
     "no Name"},
    {"name with a space",
     {{"a.json", def(R"({"Name": "LED 1", "Driver": "sim", "Line": 1})")}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Name",
     "bad name 'LED 1'"},
    {"peripheral type other than Gpio",
     {{"a.json", def(R"({"Name": "U", "Type": "Uart", "Driver": "sim", "Line": 1})")}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Type",
     "unsupported peripheral type 'Uart'"},
    {"bad bias",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "Bias": "up")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Bias",
     "unknown bias 'up'"},
    {"bad debounce",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "DebounceMs": -5)"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].DebounceMs",
     "bad debounce -5"},
    {"bad direction",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "Direction": "in")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Direction",
     "unknown direction 'in'"},
    {"key of two characters",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "Key": "ab")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].Key",
     "expected one printable character"},
    {"active-low not a boolean",
     {{"a.json", def(peripheral_with(R"("Driver": "sim", "Line": 1, "ActiveLow": "yes")"))}},
     "a.json",
     "a.json",
     "$.Peripherals[0].ActiveLow",
     "expected true or false"},
    {"fault deep in an import names the imported file",
     {{"app.json", def(sim_led, import("board.json"))},
      {"board.json", def(peripheral_with(R"("Driver": "sim", "Line": 70000)"))}},
     "app.json",
     "board.json",
     "$.Peripherals[0].Line",
     "bad line number 70000"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(definition)

BOOST_AUTO_TEST_CASE(names_resolve_through_an_import_chain_with_overrides) {
    // The Azure Sphere shape: app names -> board names -> chip lines.
    const files fs{
        {"app.json",
         def(R"({"Name": "SAMPLE_BUTTON_1", "Type": "Gpio", "Mapping": "RDB_BUTTON_A", "DebounceMs": 25,
                             "Comment": "start the downloads"})",
             import("board.json"))},
        {"board.json",
         def(R"({"Name": "RDB_BUTTON_A", "Type": "Gpio", "Mapping": "CHIP_GPIO12", "ActiveLow": true,
                 "Bias": "pull-up", "DebounceMs": 10, "Direction": "input"})",
             import("chip.json"))},
        {"chip.json", def(R"({"Name": "CHIP_GPIO12", "Type": "Gpio", "Driver": "linux",
                              "Chip": ["pinctrl-x", "/dev/gpiochip0"], "Line": 12})")},
    };
    const auto d = boards::resolve_definition("app.json", reader(fs));
    BOOST_TEST(d.name == "app");
    BOOST_TEST(d.files == (std::vector<std::string>{"app.json", "board.json", "chip.json"}));
    BOOST_TEST(d.names() == (std::vector<std::string>{"CHIP_GPIO12", "RDB_BUTTON_A", "SAMPLE_BUTTON_1"}));
    const auto* s = d.find("SAMPLE_BUTTON_1");
    BOOST_TEST_REQUIRE(s != nullptr);
    BOOST_TEST(s->chain == (std::vector<std::string>{"SAMPLE_BUTTON_1", "RDB_BUTTON_A", "CHIP_GPIO12"}));
    BOOST_TEST(s->driver == "linux");
    BOOST_TEST(s->chips == (std::vector<std::string>{"pinctrl-x", "/dev/gpiochip0"}));
    BOOST_TEST(s->line == 12u);
    BOOST_TEST(s->active_low);
    BOOST_TEST((s->bias == boards::line_bias::pull_up));
    BOOST_TEST((s->debounce == 25ms), "the outermost mapping wins");
    BOOST_TEST((s->direction == boards::line_direction::input));
    BOOST_TEST(s->comment == "start the downloads");
    BOOST_TEST(s->source == "chip.json $.Peripherals[0]");
    const auto* chip = d.find("CHIP_GPIO12");
    BOOST_TEST_REQUIRE(chip != nullptr);
    BOOST_TEST(!chip->active_low, "a mapping does not change the line it maps to");
    BOOST_TEST(d.find("NOPE") == nullptr);
}

BOOST_AUTO_TEST_CASE(imports_are_relative_to_the_importing_file) {
    const files fs{
        {"conf/app.json", def(R"({"Name": "B", "Mapping": "L"})", import("boards/board.json"))},
        {"conf/boards/board.json", def("", import("../chip.json"))},
        {"conf/chip.json", def(R"({"Name": "L", "Driver": "sim", "Line": 4})")},
    };
    const auto d = boards::resolve_definition("conf/app.json", reader(fs));
    BOOST_TEST(d.files ==
               (std::vector<std::string>{"conf/app.json", "conf/boards/board.json", "conf/chip.json"}));
    BOOST_TEST(d.find("B")->line == 4u);
}

BOOST_AUTO_TEST_CASE(a_file_imported_twice_is_loaded_once) {
    const files fs{
        {"app.json", def("", import("left.json") + "," + import("right.json"))},
        {"left.json", def(R"({"Name": "L", "Mapping": "PIN"})", import("base.json"))},
        {"right.json", def(R"({"Name": "R", "Mapping": "PIN"})", import("base.json"))},
        {"base.json", def(R"({"Name": "PIN", "Driver": "sim", "Line": 1})")},
    };
    const auto d = boards::resolve_definition("app.json", reader(fs));
    BOOST_TEST(d.files.size() == 4u);
    BOOST_TEST(d.lines.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_bare_import_falls_back_to_the_built_in_definitions) {
    const files fs{
        {"my/app.json", def(R"({"Name": "GO", "Mapping": "BUTTON_A"})", import("sim.json"))},
        {"builtin:sim.json", def(R"({"Name": "BUTTON_A", "Driver": "sim", "Line": 12, "Key": "a"})")},
    };
    const auto d = boards::resolve_definition("my/app.json", reader(fs));
    BOOST_TEST(d.files.back() == "builtin:sim.json");
    BOOST_TEST(d.find("GO")->key == "a");
}

BOOST_AUTO_TEST_CASE(metadata_name_names_the_definition) {
    const files fs{{"x/y.json", R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1,
                                                 "Name": "gateway-7"}})"}};
    BOOST_TEST(boards::resolve_definition("x/y.json", reader(fs)).name == "gateway-7");
}

BOOST_AUTO_TEST_CASE(comments_and_trailing_commas_are_accepted) {
    const files fs{{"a.json", R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1},
        // LED1 is on the front panel
        "Peripherals": [{"Name": "LED1", "Driver": "sim", "Line": 8,},],})"}};
    BOOST_TEST(boards::resolve_definition("a.json", reader(fs)).lines.size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_fault_names_its_file_and_json_path) {
    for (const auto& c : error_cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto e = error_of(c.fs, c.root);
            BOOST_TEST(e.file() == c.file);
            BOOST_TEST(e.json_path() == c.json_path);
            const std::string what = e.what();
            BOOST_TEST(what.find(c.reason) != std::string::npos, "what(): " << what);
            BOOST_TEST(what.rfind(c.file + ": ", 0) == 0u, "what() starts with the file: " << what);
        }
    }
}

BOOST_AUTO_TEST_CASE(built_in_definitions_resolve) {
    const auto sim = boards::load_definition("sim");
    BOOST_TEST(sim.name == "sim");
    BOOST_TEST(sim.file == "builtin:sim.json");
    for (const char* name : {"BUTTON_A", "BUTTON_B", "LED1"}) {
        const auto* s = sim.find(name);
        BOOST_TEST_REQUIRE(s != nullptr, name);
        BOOST_TEST(s->driver == "sim");
        BOOST_TEST(s->active_low, name << " is active-low, as on the Azure Sphere RDB");
    }
    BOOST_TEST(sim.find("BUTTON_A")->key == "a");
    BOOST_TEST(sim.find("BUTTON_B")->key == "b");
    BOOST_TEST(sim.find("BUTTON_A")->line == 12u);
    BOOST_TEST(sim.find("LED1")->line == 8u);

    const auto pi = boards::load_definition("raspberrypi");
    const auto* a = pi.find("BUTTON_A");
    BOOST_TEST_REQUIRE(a != nullptr);
    BOOST_TEST(a->chain == (std::vector<std::string>{"BUTTON_A", "RPI_GPIO17"}));
    BOOST_TEST(a->driver == "linux");
    BOOST_TEST(a->line == 17u);
    BOOST_TEST(a->active_low);
    BOOST_TEST((a->bias == boards::line_bias::pull_up));
    BOOST_TEST((a->debounce == 10ms));
    BOOST_TEST(a->chips.front() == "pinctrl-rp1");
    BOOST_TEST(pi.find("LED1")->line == 18u);
    BOOST_TEST(pi.find("RPI_PIN11")->line == 17u, "header pin 11 is BCM GPIO 17");
    BOOST_TEST(pi.find("RPI_PIN40")->line == 21u, "header pin 40 is BCM GPIO 21");
    BOOST_TEST(pi.files ==
               (std::vector<std::string>{"builtin:raspberrypi.json", "builtin:raspberrypi-header.json"}));

    const auto example = boards::load_definition("linux-example");
    BOOST_TEST(example.find("BUTTON_A")->chips == (std::vector<std::string>{"/dev/gpiochip0"}));
    BOOST_TEST(boards::builtin_definitions().size() == 4u);
}

BOOST_AUTO_TEST_CASE(unknown_board_name_lists_the_built_in_ones) {
    try {
        boards::load_definition("raspberry");
        BOOST_FAIL("no error");
    } catch (const boards::definition_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("unknown board") != std::string::npos, what);
        BOOST_TEST(what.find("sim, raspberrypi") != std::string::npos, what);
    }
}

BOOST_AUTO_TEST_CASE(missing_definition_file_is_named) {
    try {
        boards::load_definition("/nonexistent/board.json");
        BOOST_FAIL("no error");
    } catch (const boards::definition_error& e) {
        BOOST_TEST(e.file() == "/nonexistent/board.json");
        BOOST_TEST(std::string(e.what()).find("no such file") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
