#include "options.hpp"

#include <boost/program_options.hpp>

#include <cmath>
#include <sstream>

namespace multi_fetch {

namespace po = boost::program_options;

namespace {

po::options_description describe_options(std::string& cacert, std::string& capath, std::string& cert,
                                         std::string& key, std::string& pass, double& connect_timeout,
                                         double& max_time) {
    po::options_description d("Options");
    d.add_options()("help,h", "show this help and exit")(
        "now", "start the transfers at once (the default until a board with button A is configured)")(
        "demo", "run against an embedded local HTTPS server (no network needed); trusts its CA")(
        "cacert", po::value(&cacert)->value_name("FILE"),
        "PEM file of trusted CA certificates (default: system store)")(
        "capath", po::value(&capath)->value_name("DIR"), "directory of hashed CA certificates")(
        "cert", po::value(&cert)->value_name("FILE"), "client certificate chain (PEM) for mutual TLS")(
        "key", po::value(&key)->value_name("FILE"), "private key (PEM) of the client certificate")(
        "pass", po::value(&pass)->value_name("PHRASE"), "passphrase of an encrypted --key")(
        "insecure,k", "DO NOT verify the server certificate (a warning is logged for every connection)")(
        "connect-timeout", po::value(&connect_timeout)->value_name("SECONDS"),
        "limit for name resolution, connection and TLS handshake, each (default 10)")(
        "max-time,m", po::value(&max_time)->value_name("SECONDS"),
        "limit for each whole transfer (default: none)")("fail,f",
                                                         "count an HTTP status outside 200-299 as a failure")(
        "verbose,v", po::value<std::vector<std::string>>()->zero_tokens()->composing(),
        "more logging: -v info, -vv debug (headers; secrets redacted)")(
        "quiet,q", "do not print response bodies, only the completion lines");
    return d;
}

std::chrono::milliseconds seconds_option(const char* name, double value) {
    if (!std::isfinite(value) || value <= 0 || value > 86400.0 * 365)
        throw usage_error(std::string("--") + name + ": expected a positive number of seconds");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(value * 1000)));
}

} // namespace

options parse_options(int argc, const char* const argv[]) {
    options o;
    double connect_timeout = 0;
    double max_time = 0;
    auto desc = describe_options(o.cacert, o.capath, o.cert, o.key, o.pass, connect_timeout, max_time);
    po::options_description hidden;
    hidden.add_options()("url", po::value(&o.urls));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("url", -1);

    po::variables_map vm;
    try {
        auto parsed = po::command_line_parser(argc, argv)
                          .options(all)
                          .positional(positional)
                          .style(po::command_line_style::unix_style)
                          .run();
        po::store(parsed, vm);
        po::notify(vm);
        for (const auto& opt : parsed.options)
            o.verbose += opt.string_key == "verbose";
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    o.help = vm.count("help") > 0;
    o.now = vm.count("now") > 0;
    o.demo = vm.count("demo") > 0;
    o.insecure = vm.count("insecure") > 0;
    o.fail = vm.count("fail") > 0;
    o.quiet = vm.count("quiet") > 0;
    if (vm.count("connect-timeout"))
        o.connect_timeout = seconds_option("connect-timeout", connect_timeout);
    if (vm.count("max-time"))
        o.max_time = seconds_option("max-time", max_time);
    if (o.cert.empty() != o.key.empty())
        throw usage_error("--cert and --key go together");
    if (!o.pass.empty() && o.key.empty())
        throw usage_error("--pass needs --key");
    for (const auto& u : o.urls)
        if (u.empty() || u.front() == '-')
            throw usage_error("unknown option or empty URL: '" + u + "'");
    return o;
}

std::string help_text() {
    std::string a, b, c, d, e;
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
    out << "\n" << describe_options(a, b, c, d, e, x, y) << "\n";
    out << "Exit status:\n"
           "  0  every transfer completed (with --fail: and answered 2xx)\n"
           "  1  at least one transfer failed\n"
           "  2  usage error (bad option or value)\n"
           "  3  TLS configuration error (CA, certificate or key file)\n"
           "  4  interrupted by SIGINT/SIGTERM before the transfers finished\n";
    return out.str();
}

std::vector<std::string> default_urls() {
    return {"https://httpstat.us/200?sleep=5000", "https://httpstat.us/400?sleep=1000"};
}

} // namespace multi_fetch
