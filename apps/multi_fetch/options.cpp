#include "options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace multi_fetch {

namespace po = boost::program_options;

namespace {

po::options_description describe_options(options& o, double& connect_timeout, double& max_time) {
    po::options_description d("Options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("header,H", po::value<std::vector<std::string>>()->composing()->value_name("\"NAME: VALUE\""),
         "send this header (repeatable); \"NAME:\" removes a default one, \"NAME;\" sends it empty; @FILE: one per line")
        ("user-agent,A", po::value<std::string>()->value_name("NAME"), "User-Agent to send")
        ("referer,e", po::value<std::string>()->value_name("URL"), "Referer to send")
        ("request,X", po::value<std::string>()->value_name("METHOD"), "request method (default GET, POST with data, PUT with -T)")
        ("data,d", po::value<std::vector<std::string>>()->composing()->value_name("DATA"),
         "POST DATA (form-encoded); @FILE or @- streams a file or stdin without CR and LF; repeated: joined with &")
        ("data-ascii", po::value<std::vector<std::string>>()->composing()->value_name("DATA"), "same as --data")
        ("data-binary", po::value<std::vector<std::string>>()->composing()->value_name("DATA"),
         "like --data, but @FILE is sent as it is")
        ("data-raw", po::value<std::vector<std::string>>()->composing()->value_name("DATA"),
         "like --data, without the @FILE meaning of @")
        ("json", po::value<std::vector<std::string>>()->composing()->value_name("DATA"),
         "like --data-binary, with Content-Type and Accept application/json; repeated: concatenated")
        ("upload-file,T", po::value(&o.upload_file)->value_name("FILE"),
         "PUT FILE (- for stdin), streamed; a URL ending in / gets the file's name appended")
        ("output,o", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
         "write the body of the next URL to FILE (- for stdout); written as FILE.part, renamed when complete")
        ("remote-name,O", po::value<std::vector<std::string>>()->zero_tokens()->composing(),
         "write the body of the next URL to a file named after the URL's last path segment")
        ("sha256", po::value<std::vector<std::string>>()->composing()->value_name("HEX"),
         "the SHA-256 the body of the next URL must have (paired with the URLs as -o is); checked as it\n"
         "arrives: another digest fails the transfer, and its -o/--output-dir file is not kept.\n"
         "In a -K file: a line sha256 = HEX after its url line, or \"URL sha256=HEX\" on one line")
        ("limit-rate", po::value<std::string>()->value_name("RATE"),
         "limit each transfer's download to RATE bytes per second, as curl: a number with an optional "
         "suffix k/K, m/M, g/G (times 1024, 1024^2, 1024^3) or b/B; 0: no limit. Averaged over seconds")
        ("limit-rate-total", po::value<std::string>()->value_name("RATE"),
         "(edgeloop's own) limit all transfers together to RATE bytes per second (as --limit-rate)")
        ("create-dirs", "create the directories -o names")
        ("no-clobber", "never overwrite: FILE exists, FILE.1 ... FILE.100 are tried")
        ("remove-on-error", "leave no file of a failed transfer (always so: bodies are renamed into place when complete)")
        ("write-out,w", po::value(&o.write_out)->value_name("FORMAT"),
         "after each transfer write FORMAT with curl's %{variables} (%{json}, %{stderr}, ...); @FILE reads it")
        ("json-lines", "one JSON object per finished transfer on stdout (the fields of %{json}); the rest goes to stderr")
        ("silent,s", "no progress line and no human lines (completions, summary, failures)")
        ("show-error,S", "with -s, still show failures")
        ("include,i", "write the response's status line and header fields before its body")
        ("head,I", "send HEAD and show the response head")
        ("dump-header,D", po::value(&o.dump_header)->value_name("FILE"), "write every response head to FILE (- for stdout)")
        ("fail-with-body", "like --fail, but keep the body of an error status (still a failure)")
        ("get,G", "send the data in the URL's query with GET instead of a POST body")
        ("user,u", po::value<std::string>()->value_name("USER[:PASSWORD]"),
         "Basic authentication (the password is asked for on the terminal when missing); never logged")
        ("oauth2-bearer", po::value<std::string>()->value_name("TOKEN"), "send Authorization: Bearer TOKEN; never logged")
        ("netrc-file", po::value(&o.netrc_file)->value_name("FILE"),
         "Basic authentication from the FILE's entry (machine, login, password) for each URL's host")
        ("location-trusted", "send the credentials to other hosts redirected to as well (default: only to the URL's own)")
        ("now", "start the transfers at once and exit when they are done, instead of waiting for the button")
        ("demo", "run against a local HTTPS server (no network needed), edgeloop-demo-server, started and stopped with the program; trusts its CA")
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
        ("continue-at,C", po::value<std::string>()->value_name("-"),
         "only '-': resume into the FILE.part an interrupted run left for -o/-O/--output-dir (Range from its\n"
         "size); the file appears, renamed, only when whole; a .part already whole (416) is just renamed")
        ("retry", po::value(&o.retry)->value_name("N"),
         "retry a transient failure (timeout, refused, reset, cut-off body; HTTP 408, 429, 500, 502, 503,\n"
         "504) up to N times, backing off 1 s, 2 s, 4 s ... (full jitter) up to 10 min; a cut-off body\n"
         "resumes with Range and If-Range (a file changed meanwhile comes again whole)")
        ("retry-delay", po::value<double>()->value_name("SECONDS"), "wait SECONDS before each retry instead of backing off")
        ("retry-max-time", po::value<double>()->value_name("SECONDS"),
         "start no retry later than SECONDS after the transfer started")
        ("retry-all-errors", "with --retry: retry on any error, not only transient ones")
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
        ("compressed", "ask for gzip or deflate (Accept-Encoding) and decode the body; -o files, --sha256 and\n"
         "--max-filesize are about the decoded bytes")
        ("etag-save", po::value(&o.etag_save)->value_name("FILE"), "write the response's ETag to FILE (- for stdout)")
        ("etag-compare", po::value(&o.etag_compare)->value_name("FILE"),
         "send If-None-Match with the ETag in FILE (as --etag-save wrote it); 304 Not Modified: no file is\n"
         "written or replaced, and the transfer succeeds with \"not modified\"")
        ("time-cond,z", po::value(&o.time_cond)->value_name("DATE|FILE"),
         "send If-Modified-Since DATE (or the modification time of FILE); -DATE: If-Unmodified-Since")
        ("max-filesize", po::value<std::uint64_t>()->value_name("BYTES"),
         "fail a transfer whose body (decoded, with --compressed) exceeds BYTES; nothing of it is kept")
        ("url-file,K", po::value(&o.url_files)->composing()->value_name("FILE"),
         "read more URLs from FILE (- for stdin), as the transfers run: one per line, or curl config lines url = \"...\"")
        ("verbose,v", po::value<std::vector<std::string>>()->zero_tokens()->composing(),
         "more logging: -v info, -vv debug (request headers, secrets redacted)")
        ("quiet,q", "do not print response bodies, only the completion lines and the summary");
    // clang-format on
    app_common::add_proxy_options(d, o.proxy);
    app_common::add_connect_options(d, o.connect_cli);
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
    po::parsed_options parsed(&all);
    try {
        parsed = parser.run();
        po::store(parsed, vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw usage_error(app_common::error_message(e, argc, argv));
    }
    // In command-line order: -v counts, and the data arguments keep their order across their names.
    for (const auto& opt : parsed.options) {
        const auto& key = opt.string_key;
        o.verbose += key == "verbose";
        if (key == "header" && !opt.value.empty())
            o.headers.push_back(opt.value.back());
        const auto kind = key == "data" || key == "data-ascii" ? std::optional(data_arg::kind::ascii)
                          : key == "data-binary"               ? std::optional(data_arg::kind::binary)
                          : key == "data-raw"                  ? std::optional(data_arg::kind::raw)
                          : key == "json"                      ? std::optional(data_arg::kind::json)
                                                               : std::nullopt;
        if (kind && !opt.value.empty())
            o.data.push_back({*kind, opt.value.back()});
        if (key == "output" && !opt.value.empty()) {
            if (opt.value.back().empty())
                throw usage_error("--output: expected a file name");
            o.outputs.push_back({false, opt.value.back()});
        }
        if (key == "remote-name")
            o.outputs.push_back({true, ""});
        if (key == "sha256" && !opt.value.empty()) {
            if (!is_sha256_hex(opt.value.back()))
                throw usage_error("--sha256: expected 64 hexadecimal digits, got '" + opt.value.back() + "'");
            o.sha256.push_back(opt.value.back());
        }
    }
    if (vm.count("user-agent"))
        o.user_agent = vm["user-agent"].as<std::string>();
    if (vm.count("referer"))
        o.referer = vm["referer"].as<std::string>();
    if (vm.count("request")) {
        o.method = vm["request"].as<std::string>();
        if (o.method->empty() || o.method->find_first_of(" \t\r\n") != std::string::npos)
            throw usage_error("--request: expected a method name, got '" + *o.method + "'");
    }
    o.get = vm.count("get") > 0;
    for (const char* name : {"limit-rate", "limit-rate-total"}) {
        if (!vm.count(name))
            continue;
        const auto& text = vm[name].as<std::string>();
        const auto rate = parse_rate(text);
        if (!rate)
            throw usage_error(std::string("--") + name + ": expected bytes per second, a number with an " +
                              "optional suffix k, m, g or b (1024 multiples, as curl), got '" + text + "'");
        (std::string_view(name) == "limit-rate" ? o.limit_rate : o.limit_rate_total) = *rate;
    }
    o.json_lines = vm.count("json-lines") > 0;
    o.silent = vm.count("silent") > 0;
    o.show_error = vm.count("show-error") > 0;
    o.include = vm.count("include") > 0;
    o.head = vm.count("head") > 0;
    o.fail_with_body = vm.count("fail-with-body") > 0;
    if (vm.count("dump-header") && o.dump_header.empty())
        throw usage_error("--dump-header: expected a file name");
    if (o.head && (!o.data.empty() || !o.upload_file.empty()))
        throw usage_error("--head goes not together with --data or --upload-file");
    o.create_dirs = vm.count("create-dirs") > 0;
    o.no_clobber = vm.count("no-clobber") > 0;
    o.remove_on_error = vm.count("remove-on-error") > 0;
    if (vm.count("user")) {
        o.user = vm["user"].as<std::string>();
        if (o.user->empty() || o.user->front() == ':')
            throw usage_error("--user: expected USER[:PASSWORD]");
    }
    if (vm.count("oauth2-bearer")) {
        o.bearer = vm["oauth2-bearer"].as<std::string>();
        if (o.bearer->empty() || o.bearer->find_first_of("\r\n") != std::string::npos)
            throw usage_error("--oauth2-bearer: expected a token on one line");
    }
    if (o.user && o.bearer)
        throw usage_error("--user and --oauth2-bearer go not together: a request has one Authorization");
    if (vm.count("netrc-file") && o.netrc_file.empty())
        throw usage_error("--netrc-file: expected a file name");
    o.location_trusted = vm.count("location-trusted") > 0;
    if (vm.count("upload-file") && o.upload_file.empty())
        throw usage_error("--upload-file: expected a file name");
    if (!o.upload_file.empty() && !o.data.empty())
        throw usage_error("--upload-file and --data go not together: a request has one body");
    if (o.get && !o.upload_file.empty())
        throw usage_error("--get and --upload-file go not together");
    for (const auto& h : o.headers)
        if (h.empty() || (h.front() != '@' && h.find_first_of(":;") == std::string::npos))
            throw usage_error("--header: expected \"NAME: VALUE\", \"NAME:\", \"NAME;\" or @FILE, got '" + h +
                              "'");
    o.help = vm.count("help") > 0;
    o.now = vm.count("now") > 0;
    o.demo = vm.count("demo") > 0;
    o.insecure = vm.count("insecure") > 0;
    o.fail = vm.count("fail") > 0;
    o.quiet = vm.count("quiet") > 0;
    if (vm.count("connect-timeout"))
        o.connect_timeout = app_common::seconds_option("connect-timeout", connect_timeout);
    o.connect = app_common::to_connect_options(o.connect_cli);
    if (vm.count("max-time"))
        o.max_time = app_common::seconds_option("max-time", max_time);
    if (vm.count("continue-at")) {
        if (vm["continue-at"].as<std::string>() != "-")
            throw usage_error("--continue-at: only '-' (resume where the .part file ends) is supported");
        o.continue_at = true;
    }
    if (vm.count("retry-delay"))
        o.retry_delay = app_common::seconds_option("retry-delay", vm["retry-delay"].as<double>());
    if (vm.count("retry-max-time"))
        o.retry_max_time = app_common::seconds_option("retry-max-time", vm["retry-max-time"].as<double>());
    o.retry_all_errors = vm.count("retry-all-errors") > 0;
    o.follow = vm.count("no-location") == 0;
    o.session_cache = vm.count("no-sessionid") == 0;
    o.compressed = vm.count("compressed") > 0;
    if (o.compressed && o.continue_at) // the .part holds decoded bytes; a Range counts encoded ones
        throw usage_error(
            "--continue-at and --compressed go not together: the .part file holds decoded bytes");
    if (vm.count("max-filesize"))
        o.max_filesize = vm["max-filesize"].as<std::uint64_t>();
    for (const auto* name : {"etag-save", "etag-compare", "time-cond"})
        if (vm.count(name) && vm[name].as<std::string>().empty())
            throw usage_error(std::string("--") + name + ": expected a value");
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
           "  4  interrupted by SIGINT/SIGTERM while a batch ran (transfers, URLs being read) or before any\n"
           "  5  board error (bad --board definition, unknown --button/--led, GPIO device unusable)\n";
    return out.str();
}

namespace {

std::string where(const std::string& path, std::size_t number) {
    return "--url-file " + path + ":" + std::to_string(number);
}

bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

} // namespace

// curl's config syntax (curl(1), -K): "[-|--]NAME[ =:]VALUE", VALUE in double quotes with \" \\ \t \n
// \r \v escapes, or unquoted up to the first white space; '#' starts a comment line.
std::optional<config_line> parse_config_line(const std::string& path, std::size_t number,
                                             std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && blank(line[i]))
        ++i;
    if (i == line.size() || line[i] == '#')
        return std::nullopt;
    if (line.substr(i, 2) == "-:" && (i + 2 == line.size() || blank(line[i + 2])))
        return config_line{"next", "", false}; // curl's short --next
    // As curl: a dashed name ends at white space only ("--output=x" is an option of its own), others also
    // at '=' or ':'.
    const bool dashed = line[i] == '-';
    const auto name_end = line.find_first_of(dashed ? " \t\r" : " \t\r=:", i);
    std::string name(line.substr(i, name_end == std::string_view::npos ? line.size() - i : name_end - i));
    if (name_end != std::string_view::npos && line.substr(name_end, 3) == "://") {
        // A bare URL: the old one-per-line list, optionally followed by "sha256=HEX".
        std::string text(line.substr(i));
        while (!text.empty() && blank(text.back()))
            text.pop_back();
        std::string sha256;
        if (const auto space = text.find_first_of(" \t"); space != std::string::npos) {
            auto rest = std::string_view(text).substr(space);
            while (!rest.empty() && blank(rest.front()))
                rest.remove_prefix(1);
            if (rest.rfind("sha256=", 0) == 0) {
                sha256 = rest.substr(7);
                if (!is_sha256_hex(sha256))
                    throw usage_error(where(path, number) +
                                      ": sha256: expected 64 hexadecimal digits, got '" + sha256 + "'");
                text.resize(space);
            }
        }
        return config_line{"url", std::move(text), true, std::move(sha256)};
    }
    const std::string given = name;
    // Short forms and leading dashes.
    if (name == "-o")
        name = "output";
    else if (name == "-O")
        name = "remote-name";
    else if (name == "-H")
        name = "header";
    else if (name == "-d")
        name = "data";
    else if (name.rfind("--", 0) == 0)
        name.erase(0, 2);
    else if (name.rfind('-', 0) == 0)
        throw usage_error(where(path, number) + ": unknown option '" + given +
                          "' (not one a -K file can carry)");
    static const char* const with_value[] = {"url",         "output",   "header", "data",   "data-ascii",
                                             "data-binary", "data-raw", "json",   "sha256", "limit-rate"};
    const bool takes_value =
        std::any_of(std::begin(with_value), std::end(with_value), [&](const char* n) { return name == n; });
    if (!takes_value && name != "remote-name" && name != "next")
        throw usage_error(where(path, number) + ": unknown option '" + given +
                          "' (not a URL, nor an option a -K file can carry)");
    i = name_end == std::string_view::npos ? line.size() : name_end;
    while (i < line.size() && blank(line[i]))
        ++i;
    if (!dashed && i < line.size() && (line[i] == '=' || line[i] == ':'))
        ++i;
    while (i < line.size() && blank(line[i]))
        ++i;
    if (!takes_value)
        return config_line{name, "", false};
    if (i == line.size())
        throw usage_error(where(path, number) + ": option " + name + " expects a value");
    std::string value;
    if (line[i] == '"') {
        bool closed = false;
        for (++i; i < line.size(); ++i) {
            char c = line[i];
            if (c == '"') {
                closed = true;
                break;
            }
            if (c == '\\' && i + 1 < line.size()) {
                c = line[++i];
                switch (c) {
                case 't':
                    c = '\t';
                    break;
                case 'n':
                    c = '\n';
                    break;
                case 'r':
                    c = '\r';
                    break;
                case 'v':
                    c = '\v';
                    break;
                default:
                    break;
                }
            }
            value += c;
        }
        if (!closed)
            throw usage_error(where(path, number) + ": option " + name + ": unterminated quoted value");
    } else {
        const auto end = line.find_first_of(" \t\r", i);
        value = std::string(line.substr(i, end == std::string_view::npos ? line.size() - i : end - i));
    }
    if (name == "sha256" && !is_sha256_hex(value))
        throw usage_error(where(path, number) + ": sha256: expected 64 hexadecimal digits, got '" + value +
                          "'");
    if (name == "limit-rate" && !parse_rate(value))
        throw usage_error(where(path, number) + ": limit-rate: expected bytes per second, a number with an " +
                          "optional suffix k, m, g or b (1024 multiples, as curl), got '" + value + "'");
    if (value.empty() && (name == "url" || name == "output"))
        throw usage_error(where(path, number) + ": option " + name + ": empty value");
    if (!value.empty() && value.front() == '@' && value.substr(1) == "-" && name != "url" &&
        name != "output" && name != "data-raw")
        throw usage_error(where(path, number) + ": option " + name +
                          " @-: stdin cannot be read from a -K file");
    return config_line{name, std::move(value), false};
}

std::optional<std::uint64_t> parse_rate(std::string_view text) {
    // curl 7.88's --limit-rate: a decimal number (an optional '+'), then at most one unit character.
    if (!text.empty() && text.front() == '+')
        text.remove_prefix(1);
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0 || text.size() - digits > 1)
        return std::nullopt;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    std::uint64_t unit = 1;
    if (digits < text.size()) {
        switch (text[digits]) {
        case 'g':
        case 'G':
            unit = 1024ULL * 1024 * 1024;
            break;
        case 'm':
        case 'M':
            unit = 1024ULL * 1024;
            break;
        case 'k':
        case 'K':
            unit = 1024;
            break;
        case 'b':
        case 'B':
            break;
        default:
            return std::nullopt;
        }
    }
    if (value > std::numeric_limits<std::uint64_t>::max() / unit)
        return std::nullopt;
    return value * unit;
}

bool is_sha256_hex(std::string_view hex) {
    return hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

std::vector<std::string> default_urls() {
    return {"https://httpstat.us/200?sleep=5000", "https://httpstat.us/400?sleep=1000"};
}

} // namespace multi_fetch
