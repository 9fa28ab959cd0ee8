#include "options.hpp"

#include <boost/program_options.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace multi_fetch {

namespace po = boost::program_options;

namespace {

po::options_description describe_options(options& o, double& connect_timeout, double& max_time) {
    po::options_description d("Options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("now", "start the transfers at once and exit when they are done, instead of waiting for the button")
        ("demo", "run against an embedded local HTTPS server (no network needed); trusts its CA")
        ("cacert", po::value(&o.cacert)->value_name("FILE"), "PEM file of trusted CA certificates (default: system store)")
        ("capath", po::value(&o.capath)->value_name("DIR"), "directory of hashed CA certificates")
        ("cert", po::value(&o.cert)->value_name("FILE|URI"),
         "client certificate chain (PEM, or DER) for mutual TLS, or a pkcs11: URI")
        ("key", po::value(&o.key)->value_name("FILE|URI"),
         "private key (PEM or DER) of the client certificate, or a key in a PKCS#11 token:\n"
         "'pkcs11:token=T;object=O[?module-path=/path/module.so]' (certificate: --cert, or the\n"
         "token's object O of type cert)")
        ("pass", po::value(&o.pass)->value_name("PHRASE"), "passphrase of an encrypted --key")
        ("pin-file", po::value(&o.pin_file)->value_name("FILE"),
         "PIN of the PKCS#11 token of a pkcs11: --key (first line of FILE; never logged)")
        ("insecure,k", "DO NOT verify the server certificate (a warning is logged for every connection)")
        ("connect-timeout", po::value(&connect_timeout)->value_name("SECONDS"),
         "limit for name resolution, connection and TLS handshake, each (default 10)")
        ("max-time,m", po::value(&max_time)->value_name("SECONDS"),
         "limit for each whole transfer, queue time included (default: none)")
        ("fail,f", "count an HTTP status outside 200-299 as a failure")
        ("max-total", po::value(&o.max_total)->value_name("N"), "at most N connections at once (default: no limit)")
        ("max-per-host", po::value(&o.max_per_host)->value_name("N"),
         "at most N connections to one host (default: no limit)")
        ("output-dir", po::value(&o.output_dir)->value_name("DIR"),
         "write each body to its own file in DIR (name from the URL, made unique); a failed transfer leaves none")
        ("allow", po::value<std::vector<std::string>>()->composing()->value_name("HOST[,HOST...]"),
         "connect only to these hosts (*.example.com patterns allowed); checked before DNS and on every redirect")
        ("location,L", "follow redirects (the default, as the Azure sample does)")
        ("no-location", "do not follow redirects")
        ("max-redirs", po::value(&o.max_redirs)->value_name("N"), "follow at most N redirects (default 10)")
        ("no-sessionid", "do not resume TLS sessions (switches the session cache off)")
        ("url-file,K", po::value(&o.url_files)->composing()->value_name("FILE"),
         "read more URLs from FILE (- for stdin), as the transfers run: one per line, or curl config lines url = \"...\"")
        ("verbose,v", po::value<std::vector<std::string>>()->zero_tokens()->composing(),
         "more logging: -v info, -vv debug (request headers, secrets redacted)")
        ("quiet,q", "do not print response bodies, only the completion lines and the summary");
    // clang-format on
    edgeloop::boards::add_options(d, o.board);
    return d;
}

} // namespace

options parse_options(int argc, const char* const argv[]) {
    options o;
    double connect_timeout = 0;
    double max_time = 0;
    auto desc = describe_options(o, connect_timeout, max_time);
    po::options_description hidden;
    hidden.add_options()("url", po::value(&o.urls));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("url", -1);

    po::variables_map vm;
    po::command_line_parser parser(argc, argv);
    parser.options(all).positional(positional).style(po::command_line_style::unix_style);
    o.verbose = app_common::parse_command_line(parser, vm, argc, argv);
    o.help = vm.count("help") > 0;
    o.now = vm.count("now") > 0;
    o.demo = vm.count("demo") > 0;
    o.insecure = vm.count("insecure") > 0;
    o.fail = vm.count("fail") > 0;
    o.quiet = vm.count("quiet") > 0;
    if (vm.count("connect-timeout"))
        o.connect_timeout = app_common::seconds_option("connect-timeout", connect_timeout);
    if (vm.count("max-time"))
        o.max_time = app_common::seconds_option("max-time", max_time);
    o.follow = vm.count("no-location") == 0;
    o.session_cache = vm.count("no-sessionid") == 0;
    if (vm.count("allow")) {
        for (const auto& list : vm["allow"].as<std::vector<std::string>>()) {
            std::size_t start = 0;
            while (start <= list.size()) {
                auto comma = list.find(',', start);
                if (comma == std::string::npos)
                    comma = list.size();
                if (comma > start)
                    o.allow.push_back(list.substr(start, comma - start));
                start = comma + 1;
            }
        }
        if (o.allow.empty())
            throw usage_error("--allow: expected a host name");
    }
    if (o.max_redirs > 1000)
        throw usage_error("--max-redirs: at most 1000");
    for (const auto& file : o.url_files) // read later, lazily; only checked for opening here
        if (file != "-" && !std::ifstream(file))
            throw usage_error("--url-file " + file + ": cannot open (" + std::strerror(errno) + ")");
    const bool pkcs11_key = o.key.rfind("pkcs11:", 0) == 0;
    if (o.cert.empty() != o.key.empty() && !(pkcs11_key && o.cert.empty()))
        throw usage_error("--cert and --key go together (--cert may be left out with a pkcs11: --key)");
    if (!o.pin_file.empty() && !pkcs11_key)
        throw usage_error("--pin-file needs a pkcs11: --key");
    if (!o.pass.empty() && o.key.empty())
        throw usage_error("--pass needs --key");
    for (const auto& u : o.urls)
        if (u.empty() || u.front() == '-')
            throw usage_error("unknown option or empty URL: '" + u + "'");
    return o;
}

std::string help_text() {
    options o;
    double x = 0, y = 0;
    std::ostringstream out;
    out << "Usage: multi_fetch [options] [URL...]\n"
           "\n"
           "Fetches every URL concurrently on one event loop and prints each body as it arrives, every line\n"
           "prefixed by its transfer number ([1] ...), then one completion line per transfer with the URL,\n"
           "HTTP status, bytes and elapsed milliseconds, or the error. Server certificates and host names\n"
           "are verified unless --insecure is given.\n"
           "\n"
           "Default URLs (the Azure Sphere sample's):\n";
    for (const auto& u : default_urls())
        out << "  " << u << "\n";
    out << "\n" << describe_options(o, x, y) << "\n";
    out << "Client key in a PKCS#11 token (HSM, secure element, SoftHSM2), certificate from the token:\n"
           "  multi_fetch --pin-file /etc/gw/pin \\\n"
           "    --key 'pkcs11:token=gw;object=device?module-path=/usr/lib/softhsm/libsofthsm2.so' URL\n"
           "\n";
    out << "Exit status:\n"
           "  0  every transfer completed (with --fail: and answered 2xx)\n"
           "  1  at least one transfer failed\n"
           "  2  usage error (bad option or value)\n"
           "  3  TLS configuration error (CA, certificate or key file; PKCS#11 token, object or PIN)\n"
           "  4  interrupted by SIGINT/SIGTERM while transfers ran (or before any ran)\n"
           "  5  board error (bad --board definition, unknown --button/--led, GPIO device unusable)\n";
    return out.str();
}

std::optional<std::string> parse_url_line(const std::string& path, std::size_t number,
                                          std::string_view line) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
        return std::nullopt;
    std::string text(line.substr(first, line.find_last_not_of(" \t\r") + 1 - first));
    const bool config_line =
        text.rfind("url", 0) == 0 && text.size() > 3 && (text[3] == ' ' || text[3] == '=' || text[3] == '\t');
    if (config_line) {
        text = text.substr(3);
        text.erase(0, text.find_first_not_of(" \t=:"));
        if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
            text = text.substr(1, text.size() - 2);
    } else if (text.find("://") == std::string::npos) {
        throw usage_error("--url-file " + path + ":" + std::to_string(number) + ": not a URL: " + text);
    }
    if (text.empty())
        throw usage_error("--url-file " + path + ":" + std::to_string(number) + ": empty URL");
    return text;
}

std::vector<std::string> read_url_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw usage_error("--url-file " + path + ": cannot open (" + std::strerror(errno) + ")");
    std::vector<std::string> urls;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number)
        if (auto url = parse_url_line(path, number, line))
            urls.push_back(std::move(*url));
    return urls;
}

std::vector<std::string> default_urls() {
    return {"https://httpstat.us/200?sleep=5000", "https://httpstat.us/400?sleep=1000"};
}

} // namespace multi_fetch
