#include "options.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <cmath>
#include <sstream>

namespace aws_post {

namespace po = boost::program_options;

namespace {

struct raw_values {
    unsigned port = 8443;
    unsigned long backoff_base_ms = 500;
    unsigned long interval_ms = 0;
    unsigned long backoff_max_ms = 5000;
    double connect_timeout = 0;
    double max_time = 0;
    unsigned long long message_expiry = 0;
    std::vector<std::string> user_properties;
    std::vector<std::string> command;
    unsigned long long version = 0;
    double spool_max_mb = 0;
    double ttl = 0;
};

po::options_description describe_options(options& o, raw_values& raw) {
    po::options_description d("Options");
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("endpoint", po::value(&o.endpoint)->value_name("HOST"),
         "AWS IoT data endpoint (<prefix>-ats.iot.<region>.amazonaws.com); required unless --demo")
        ("port", po::value(&raw.port)->value_name("PORT"),
         "8443 (default, no ALPN) or 443 (ALPN x-amzn-http-ca); any other port is used without ALPN")
        ("cacert", po::value(&o.cacert)->value_name("FILE"), "trust anchors, PEM (Amazon Root CA 1/3; default: system store)")
        ("cert", po::value(&o.cert)->value_name("FILE|URI"),
         "device certificate, PEM or DER file, or pkcs11: URI (AWS IoT refuses connections without one)")
        ("key", po::value(&o.key)->value_name("FILE|URI"),
         "private key of the device certificate: PEM or DER file, or a key in a PKCS#11 token,\n"
         "'pkcs11:token=T;object=O[?module-path=/path/module.so]' (certificate: --cert, or the\n"
         "token's object O of type cert)")
        ("pass", po::value(&o.pass)->value_name("PHRASE"), "passphrase of an encrypted --key")
        ("pin-file", po::value(&o.pin_file)->value_name("FILE"),
         "PIN of the PKCS#11 token of a pkcs11: --key (first line of FILE; never logged)")
        ("topic", po::value(&o.topic)->value_name("T"), "topic to publish to (default: topic)")
        ("message", po::value(&o.message)->value_name("JSON"),
         "message body (default: { \"message\": \"Hello, world\" })")
        ("message-file", po::value(&o.message_file)->value_name("FILE"), "read the message body from FILE")
        ("qos", po::value(&o.qos)->value_name("0|1"), "quality of service (default 1)")
        ("retain", "ask the broker to retain the message")
        ("count", po::value(&o.count)->value_name("N"),
         "publish N messages over one keep-alive connection (reconnecting if the server closes it; default 1)")
        ("interval", po::value(&raw.interval_ms)->value_name("MS"),
         "pause MS milliseconds between the --count messages (default 0). The client certificate and key\n"
         "files are reloaded when they change (or on SIGHUP) while aws_post runs")
        ("attempts", po::value(&o.attempts)->value_name("N"),
         "tries per publish, the first included, before giving up (default 5)")
        ("backoff-base-ms", po::value(&raw.backoff_base_ms)->value_name("MS"),
         "upper bound of the first full-jitter retry delay (default 500)")
        ("backoff-max-ms", po::value(&raw.backoff_max_ms)->value_name("MS"),
         "largest upper bound a retry delay grows to, and the longest Retry-After honoured (default 5000)")
        ("connect-timeout", po::value(&raw.connect_timeout)->value_name("SECONDS"),
         "limit for name resolution, connection and TLS handshake, each (default 10)")
        ("max-time", po::value(&raw.max_time)->value_name("SECONDS"),
         "limit for each publish attempt, connection included (default: none)")
        ("sni", po::value(&o.sni)->value_name("NAME"), "send NAME as SNI instead of the endpoint")
        ("no-sni", "send no SNI (AWS IoT refuses such connections; for test servers)")
        ("wait-for-clock", "when the system clock is not set (before the build date or the certificate's\n"
         "notBefore), retry with the backoff until it is, instead of failing at once")
        ("demo", "publish to a local endpoint that behaves as AWS IoT does (no network needed), served by edgeloop-demo-server, which is started and stopped with the program")
        ("content-type", po::value(&o.content_type)->value_name("TYPE"),
         "MQTT 5 content type of the message (contentType), e.g. application/json")
        ("response-topic", po::value(&o.response_topic)->value_name("T"),
         "MQTT 5 response topic (responseTopic) for request-response subscribers")
        ("message-expiry", po::value(&raw.message_expiry)->value_name("SECONDS"),
         "MQTT 5 message expiry interval (messageExpiry): the broker drops the message if undelivered by then")
        ("user-property", po::value(&raw.user_properties)->value_name("K=V")->composing(),
         "MQTT 5 user property (repeatable, order kept; sent as x-amz-mqtt5-user-properties)")
        ("payload-format", po::value(&o.payload_format)->value_name("bytes|utf8"),
         "MQTT 5 payload format indicator (UNSPECIFIED_BYTES or UTF8_DATA; utf8 checks the message)")
        ("correlation-data", po::value(&o.correlation_data)->value_name("DATA"),
         "MQTT 5 correlation data (sent base64-encoded as x-amz-mqtt5-correlation-data)")
        ("auth", po::value(&o.auth)->value_name("mtls|sigv4"),
         "mtls (default): client certificate; sigv4: sign with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
         "AWS_SESSION_TOKEN from the environment, no client certificate, port 443 by default")
        ("region", po::value(&o.region)->value_name("REGION"),
         "SigV4 region (default: from --endpoint <prefix>-ats.iot.<region>.amazonaws.com)")
        ("role-alias", po::value(&o.role_alias)->value_name("A"),
         "--auth sigv4: fetch temporary credentials for role alias A from the AWS IoT credentials provider\n"
         "(mutual TLS with --cert/--key), cached until 5 minutes before they expire")
        ("credentials-endpoint", po::value(&o.credentials_endpoint)->value_name("HOST[:PORT]"),
         "the credentials provider (<prefix>.credentials.iot.<region>.amazonaws.com; port 443)")
        ("thing", po::value(&o.thing)->value_name("T"),
         "shadow commands: the thing's name; with --role-alias: sent as x-amzn-iot-thingname")
        ("name", po::value(&o.shadow_name)->value_name("N"), "shadow commands: a named shadow (default: the classic one)")
        ("version", po::value(&raw.version)->value_name("V"),
         "shadow update: apply only if the shadow is at version V (else 409, exit 7)")
        ("spool", po::value(&o.spool)->value_name("PATH"),
         "store and forward: queue messages in the SQLite file PATH and publish them continuously,\n"
         "leftovers of an earlier run first (with --stdin, or --message/--count)")
        ("stdin", "with --spool: read messages from stdin, one JSON line each:\n"
         "{\"message\": ..., \"topic\": \"t\", \"qos\": 0|1, \"retain\": true|false}; exit once input ended and\n"
         "the spool is empty")
        ("listen", po::value(&o.listen)->value_name("unix:PATH"),
         "with --spool: take the same JSON lines from clients of a local socket, each answered\n"
         "\"ok <id>\" after its commit (or \"error: <reason>\"); runs until SIGTERM")
        ("spool-max-mb", po::value(&raw.spool_max_mb)->value_name("MB"), "spool quota in MiB (default: none)")
        ("spool-policy", po::value(&o.spool_policy)->value_name("refuse|drop-oldest"),
         "when the quota is reached: refuse the new message (default) or drop the oldest")
        ("spool-sync", po::value(&o.spool_sync)->value_name("full|normal"),
         "full (default): each message fsync'ed before it is acknowledged; normal: survives a crash of the\n"
         "process, not always a power loss")
        ("max-rate", po::value(&o.max_rate)->value_name("N"), "publish at most N messages per second from the spool")
        ("ttl", po::value(&raw.ttl)->value_name("SECONDS"), "spooled messages older than this become dead letters")
        ("status", "with --spool: print depth, oldest age, dead letters and exit")
        ("dead-letters", "with --spool: list the dead letters (one JSON line each) and exit")
        ("verbose,v", po::value<std::vector<std::string>>()->zero_tokens()->composing(),
         "more output: response headers, connection and TLS details; -vv library debug logging");
    // clang-format on
    app_common::add_proxy_options(d, o.proxy);
    app_common::add_connect_options(d, o.connect_cli);
    return d;
}

} // namespace

options parse_options(int argc, const char* const argv[]) {
    options o;
    raw_values raw;
    auto desc = describe_options(o, raw);
    po::variables_map vm;
    // The command words (`shadow get`), hidden from --help.
    po::options_description all;
    all.add(desc).add_options()("command", po::value(&raw.command)->composing());
    po::positional_options_description positional;
    positional.add("command", -1);
    po::command_line_parser parser(argc, argv);
    parser.options(all).positional(positional).style(po::command_line_style::unix_style);
    o.verbose = app_common::parse_command_line(parser, vm, argc, argv);
    o.help = vm.count("help") > 0;
    if (o.help)
        return o;
    o.demo = vm.count("demo") > 0;
    o.retain = vm.count("retain") > 0;
    o.no_sni = vm.count("no-sni") > 0;
    o.wait_for_clock = vm.count("wait-for-clock") > 0;
    if (raw.port == 0 || raw.port > 65535)
        throw usage_error("--port: expected a port number from 1 to 65535");
    o.port = static_cast<std::uint16_t>(raw.port);
    if (o.qos != 0 && o.qos != 1)
        throw usage_error("--qos: expected 0 or 1 (AWS IoT does not support QoS 2)");
    if (o.count == 0)
        throw usage_error("--count: expected at least 1");
    if (raw.interval_ms > 3600 * 1000)
        throw usage_error("--interval: at most one hour");
    o.interval = std::chrono::milliseconds(raw.interval_ms);
    if (o.attempts == 0 || o.attempts > 1000)
        throw usage_error("--attempts: expected 1 to 1000");
    if (raw.backoff_base_ms > 3600 * 1000 || raw.backoff_max_ms > 3600 * 1000)
        throw usage_error("--backoff-base-ms/--backoff-max-ms: at most one hour");
    if (raw.backoff_base_ms > raw.backoff_max_ms)
        throw usage_error("--backoff-base-ms must not exceed --backoff-max-ms");
    o.backoff_base = std::chrono::milliseconds(raw.backoff_base_ms);
    o.backoff_max = std::chrono::milliseconds(raw.backoff_max_ms);
    if (vm.count("connect-timeout"))
        o.connect_timeout = app_common::seconds_option("connect-timeout", raw.connect_timeout);
    o.connect = app_common::to_connect_options(o.connect_cli);
    if (vm.count("max-time"))
        o.max_time = app_common::seconds_option("max-time", raw.max_time);
    if (vm.count("message") && vm.count("message-file"))
        throw usage_error("--message and --message-file exclude each other");
    if (!o.sni.empty() && o.no_sni)
        throw usage_error("--sni and --no-sni exclude each other");
    const bool pkcs11_key = o.key.rfind("pkcs11:", 0) == 0;
    if (o.cert.empty() != o.key.empty() && !(pkcs11_key && o.cert.empty()))
        throw usage_error("--cert and --key go together (--cert may be left out with a pkcs11: --key)");
    if (!o.pin_file.empty() && !pkcs11_key)
        throw usage_error("--pin-file needs a pkcs11: --key");
    if (!o.pass.empty() && o.key.empty())
        throw usage_error("--pass needs --key");
    if (vm.count("message-expiry")) {
        if (raw.message_expiry > 0xFFFFFFFFull)
            throw usage_error("--message-expiry: expected 0 to 4294967295 seconds");
        o.message_expiry = static_cast<std::uint32_t>(raw.message_expiry);
    }
    for (const auto& kv : raw.user_properties) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos)
            throw usage_error("--user-property: expected NAME=VALUE, got '" + kv + "'");
        o.user_properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (!o.payload_format.empty() && o.payload_format != "bytes" && o.payload_format != "utf8")
        throw usage_error("--payload-format: expected bytes or utf8");
    if (!raw.command.empty()) {
        if (raw.command[0] != "shadow")
            throw usage_error("unknown command '" + raw.command[0] +
                              "' (expected: shadow get|update|delete|list)");
        if (raw.command.size() != 2 || (raw.command[1] != "get" && raw.command[1] != "update" &&
                                        raw.command[1] != "delete" && raw.command[1] != "list"))
            throw usage_error("shadow: expected one of get, update, delete, list");
        o.shadow_action = raw.command[1];
        if (o.thing.empty())
            throw usage_error("shadow: --thing is required");
        if (o.shadow_action == "list" && !o.shadow_name.empty())
            throw usage_error("shadow list: --name does not apply (it lists the named shadows)");
        if (o.shadow_action == "update" && !vm.count("message") && !vm.count("message-file"))
            throw usage_error("shadow update: give the document with --message or --message-file");
    } else if (!o.shadow_name.empty() || (!o.thing.empty() && o.role_alias.empty())) {
        throw usage_error("--thing and --name go with the shadow commands (--thing also with --role-alias)");
    }
    if (vm.count("version")) {
        if (o.shadow_action != "update")
            throw usage_error("--version goes with shadow update");
        o.version = raw.version;
    }
    if (o.auth != "mtls" && o.auth != "sigv4")
        throw usage_error("--auth: expected mtls or sigv4");
    if ((!o.role_alias.empty() || !o.credentials_endpoint.empty()) && o.auth != "sigv4")
        throw usage_error("--role-alias and --credentials-endpoint go with --auth sigv4");
    if (!o.credentials_endpoint.empty()) {
        // HOST, HOST:PORT or [IPv6]:PORT
        const auto colon = o.credentials_endpoint.rfind(':');
        const auto bracket = o.credentials_endpoint.rfind(']');
        const bool has_port =
            colon != std::string::npos &&
            (bracket == std::string::npos ? o.credentials_endpoint.find(':') == colon : colon > bracket);
        if (has_port) {
            const std::string digits = o.credentials_endpoint.substr(colon + 1);
            unsigned port = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
            if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535)
                throw usage_error("--credentials-endpoint: expected HOST[:PORT] with a port from 1 to 65535");
            o.credentials_port = static_cast<std::uint16_t>(port);
            o.credentials_endpoint.resize(colon);
        }
        if (o.credentials_endpoint.size() > 2 && o.credentials_endpoint.front() == '[' &&
            o.credentials_endpoint.back() == ']')
            o.credentials_endpoint = o.credentials_endpoint.substr(1, o.credentials_endpoint.size() - 2);
    }
    if (o.auth == "sigv4" && !o.role_alias.empty() && !o.demo) {
        if (o.credentials_endpoint.empty())
            throw usage_error("--role-alias needs --credentials-endpoint (or --demo)");
        if (o.key.empty())
            throw usage_error("--role-alias needs the device's --cert/--key for the credentials provider");
    }
    if (o.auth == "sigv4") {
        if (!o.cert.empty() && o.role_alias.empty())
            throw usage_error(
                "--cert/--key are for --auth mtls or --role-alias; --auth sigv4 signs with access "
                "keys");
        if (!vm.count("port"))
            o.port = 443;
    } else if (!o.region.empty()) {
        throw usage_error("--region is for --auth sigv4");
    }
    o.from_stdin = vm.count("stdin") > 0;
    o.spool_status = vm.count("status") > 0;
    o.spool_dead_letters = vm.count("dead-letters") > 0;
    if (vm.count("listen")) {
        if (o.listen.rfind("unix:", 0) != 0 || o.listen.size() == 5)
            throw usage_error("--listen: expected unix:PATH");
        o.listen.erase(0, 5);
        if (o.listen.size() > 100)
            throw usage_error("--listen: the socket path is too long (at most 100 bytes)");
        if (o.from_stdin)
            throw usage_error("--listen and --stdin exclude each other");
    }
    if (o.spool.empty() && (o.from_stdin || vm.count("listen") || o.spool_status || o.spool_dead_letters ||
                            vm.count("spool-max-mb") || vm.count("spool-policy") || vm.count("spool-sync") ||
                            vm.count("max-rate") || vm.count("ttl")))
        throw usage_error(
            "--stdin, --status, --dead-letters, --spool-*, --max-rate and --ttl need --spool PATH");
    if (!o.spool.empty()) {
        if (!o.shadow_action.empty())
            throw usage_error("--spool publishes; it does not go with the shadow commands");
        if ((o.from_stdin || !o.listen.empty()) &&
            (vm.count("message") || vm.count("message-file") || vm.count("count")))
            throw usage_error("--stdin and --listen exclude --message, --message-file and --count");
        if (o.spool_policy != "refuse" && o.spool_policy != "drop-oldest")
            throw usage_error("--spool-policy: expected refuse or drop-oldest");
        if (o.spool_sync != "full" && o.spool_sync != "normal")
            throw usage_error("--spool-sync: expected full or normal");
        if (vm.count("spool-max-mb")) {
            if (!std::isfinite(raw.spool_max_mb) || raw.spool_max_mb <= 0 || raw.spool_max_mb > 1024 * 1024)
                throw usage_error("--spool-max-mb: expected a positive size in MiB");
            o.spool_max_bytes = static_cast<std::uint64_t>(raw.spool_max_mb * 1024 * 1024);
        }
        if (vm.count("max-rate") && (!std::isfinite(o.max_rate) || o.max_rate <= 0))
            throw usage_error("--max-rate: expected a positive number of messages per second");
        if (vm.count("ttl")) {
            if (!std::isfinite(raw.ttl) || raw.ttl < 1 || raw.ttl > 86400.0 * 3650)
                throw usage_error("--ttl: expected a number of seconds from 1");
            o.ttl = std::chrono::seconds(static_cast<long long>(raw.ttl));
        }
        if (o.spool_status || o.spool_dead_letters)
            return o; // no endpoint needed to look at the spool
    }
    if (!o.demo && o.endpoint.empty())
        throw usage_error("--endpoint is required (or --demo)");
    return o;
}

std::string help_text() {
    options o;
    raw_values raw;
    std::ostringstream out;
    out << "Usage: aws_post --endpoint HOST --cert FILE --key FILE [options]\n"
           "       aws_post --endpoint HOST --key 'pkcs11:token=T;object=O' [--cert FILE|URI] --pin-file F "
           "[options]\n"
           "       aws_post --demo [options]\n"
           "       aws_post shadow get|update|delete|list --thing T [--name N] [--message JSON] [--version "
           "V]\n"
           "                [options]\n"
           "\n"
           "Publishes a message to an AWS IoT topic over HTTPS with mutual TLS, as the coreHTTP\n"
           "mutual-authentication demo does: POST /topics/<topic>?qos=1, retried with full-jitter backoff\n"
           "on network failures, 429 (Retry-After honoured, up to --backoff-max-ms) and 5xx; certificate\n"
           "errors are not retried. --auth sigv4 signs with access keys (SigV4) instead of a client\n"
           "certificate.\n"
           "\n"
        << describe_options(o, raw) << "\n"
        << "Device key in a PKCS#11 token (HSM, secure element, SoftHSM2), certificate from the token:\n"
           "  aws_post --endpoint HOST --cacert AmazonRootCA1.pem --pin-file /etc/gw/pin \\\n"
           "    --key 'pkcs11:token=gw;object=device?module-path=/usr/lib/softhsm/libsofthsm2.so'\n"
           "\n"
           "Device key in a TPM 2.0 (persistent handle or TSS2 key file; tpm2 provider, TCTI from\n"
           "TPM2OPENSSL_TCTI, e.g. device:/dev/tpmrm0):\n"
           "  aws_post --endpoint HOST --cacert AmazonRootCA1.pem --key handle:0x81000001 --cert device.crt\n"
           "\n"
           "Exit status:\n"
           "  0  every publish was answered 2xx\n"
           "  1  a publish was answered with an HTTP error status (after retries for 429 and 5xx)\n"
           "  2  usage error (bad option or value)\n"
           "  3  credential or configuration error (CA, certificate, key, passphrase, message file; named)\n"
           "  4  interrupted by SIGINT/SIGTERM\n"
           "  5  connection retries exhausted (or a transfer error not worth retrying)\n"
           "  6  TLS failure (server certificate not trusted, client certificate rejected, ...; not "
           "retried)\n"
           "  7  shadow version conflict (an update with --version the shadow no longer has)\n"
           "  8  --spool: input lines were refused (bad JSON or topic, spool full, disk full; each named)\n";
    return out.str();
}

} // namespace aws_post
