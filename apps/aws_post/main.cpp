// aws_post: the coreHTTP mutual-authentication demo on edgeloop. Composition root only: parse the
// command line, build the credentials, TLS context, client and (with --demo) start the AWS IoT-like
// endpoint (edgeloop-demo-server), publish with retries on the reactor, map the outcome to an exit status.

#include "options.hpp"
#include "spool_mode.hpp"

#include "common/demo_server_process.hpp"
#include "common/identity_reload.hpp"
#include "common/proxy.hpp"

#include <edgeloop/aws.hpp>
#include <edgeloop/core.hpp>
#include <edgeloop/devserver/received_publish.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/retry.hpp>
#include <edgeloop/tls.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>

namespace {

using namespace edgeloop;
using aws_post::exit_status;
using std::chrono::milliseconds;

/// Which exit status a publish that failed for good deserves.
exit_status status_for(const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted)
        return aws_post::exit_interrupted;
    if (ec == aws::error::version_conflict)
        return aws_post::exit_version_conflict;
    if (ec.category() == aws::aws_category())
        return aws_post::exit_http_status;
    if (ec.category() == tls::tls_category())
        return aws_post::exit_tls;
    return aws_post::exit_connection;
}

/// Publishes opt.count messages one after the other, each with its own async_retry, over the client's
/// keep-alive connection; reports every step as the coreHTTP demo does.
class publisher {
public:
    publisher(core::reactor& reactor, http::client& client, http::request req, const aws_post::options& opt)
        : reactor_(reactor)
        , client_(client)
        , req_(std::move(req))
        , opt_(opt) {
        const auto authority_end = req_.url.find('/', req_.url.find("://") + 3);
        host_ = req_.url.substr(req_.url.find("://") + 3, authority_end - req_.url.find("://") - 3);
        path_ = req_.url.substr(authority_end);
    }

    void start() { publish(1); }

    /// How a 2xx-or-not answer is judged (default: a publish's aws::parse_response).
    void judge_with(std::function<boost::system::error_code(unsigned, std::string_view)> judge) {
        judge_ = std::move(judge);
    }
    const std::string& last_body() const noexcept { return body_; }

    /// Signs each attempt afresh (SigV4 dates the signature) before it is sent.
    void sign_with(std::function<boost::system::error_code(http::request&)> sign) { sign_ = std::move(sign); }

    /// Runs before each attempt's signing and may take its time (fetching credentials); an error fails
    /// the attempt (and is retried as a publish's error would be).
    using prepare_fn = std::function<void(std::function<void(boost::system::error_code)>)>;
    void prepare_with(prepare_fn prepare) { prepare_ = std::move(prepare); }

    /// Stops at once: the backoff wait or the running attempt is cancelled.
    void cancel() {
        pause_.cancel();
        cancel_.emit(boost::asio::cancellation_type::terminal);
    }

    int exit_code() const noexcept { return status_; }
    std::uint32_t published() const noexcept { return published_; }

private:
    void publish(std::uint32_t n) {
        number_ = n;
        retry::retry_options ro;
        // --wait-for-clock: a board that boots in 1970 retries (with the backoff) until NTP sets the clock.
        ro.retryable = [wait = opt_.wait_for_clock](const boost::system::error_code& ec) {
            return aws::is_retryable(ec) || (wait && ec == tls::error::clock_not_set);
        };
        ro.on_retry = [this](std::uint32_t attempt, milliseconds delay, const boost::system::error_code& ec) {
            // A delay shorter than the server's Retry-After means async_retry capped it (max_retry_after,
            // by default the policy's maximum: --backoff-max-ms).
            std::string capped;
            if (retry_after_ && *retry_after_ > delay)
                capped = " (the server's Retry-After of " + std::to_string(retry_after_->count()) +
                         " ms capped at --backoff-max-ms)";
            std::printf("attempt %u failed: %s; retrying in %lld ms%s\n", attempt, reason(ec).c_str(),
                        static_cast<long long>(delay.count()), capped.c_str());
            std::fflush(stdout);
        };
        ro.retry_after = [this](const boost::system::error_code&) { return retry_after_; };
        const retry::policy policy{
            .base = opt_.backoff_base, .max = opt_.backoff_max, .max_attempts = opt_.attempts - 1};
        retry::async_retry(
            client_.get_executor(), policy, [this](retry::attempt_handler h) { attempt(std::move(h)); },
            std::move(ro),
            boost::asio::bind_cancellation_slot(
                cancel_.slot(), [this](boost::system::error_code ec, retry::result r) { finish(ec, r); }));
    }

    void attempt(retry::attempt_handler handler) {
        body_.clear();
        retry_after_.reset();
        if (prepare_) {
            auto shared = std::make_shared<retry::attempt_handler>(std::move(handler));
            prepare_([this, shared](boost::system::error_code ec) {
                if (ec)
                    std::move (*shared)(ec);
                else
                    send(std::move(*shared));
            });
            return;
        }
        send(std::move(handler));
    }

    void send(retry::attempt_handler handler) {
        // Each message's lines are put together and written at once (one stdio lock, no format parsing).
        out_.clear();
        if (client_.idle_connections() == 0)
            out_.append("Establishing a TLS session to ").append(host_).append(".\n");
        out_.append("Sending HTTP ").append(req_.method).append(" request to ").append(host_).append(path_);
        if (opt_.count > 1)
            out_.append(" (message ")
                .append(std::to_string(number_))
                .append(" of ")
                .append(std::to_string(opt_.count))
                .append(")");
        out_.append("...\n");
        std::fwrite(out_.data(), 1, out_.size(), stdout);

        http::handlers h;
        h.on_response = [this](const http::response_head& head) {
            // The reason phrase always; the headers only when they are printed (-v).
            if (opt_.verbose > 0)
                head_ = head;
            else
                head_.reason = head.reason;
            if (const auto value = head.header("Retry-After"); !value.empty())
                if (const auto delay = retry::parse_retry_after(value))
                    retry_after_ = std::chrono::duration_cast<milliseconds>(*delay);
        };
        h.on_body = [this](std::span<const std::byte> bytes) {
            body_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        };
        if (sign_) {
            if (auto ec = sign_(req_)) {
                boost::asio::post(client_.get_executor(),
                                  [handler = std::move(handler), ec]() mutable { std::move(handler)(ec); });
                return;
            }
        }
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        client_.async_fetch(req_, std::move(h),
                            boost::asio::bind_cancellation_slot(
                                slot, [this, handler = std::move(handler)](boost::system::error_code ec,
                                                                           http::transfer_info info) mutable {
                                    info_ = std::move(info);
                                    if (ec) {
                                        std::move(handler)(ec);
                                        return;
                                    }
                                    report_response();
                                    std::move(handler)(judge_(info_.status, body_));
                                }));
        // One flush per message, for the lines above and the previous response's: posted behind the
        // transfer's start, it runs once the request is on its way, off the round trip's critical path,
        // and still within that round trip (the output stays prompt).
        boost::asio::post(client_.get_executor(), [] { std::fflush(stdout); });
    }

    void report_response() {
        out_.clear();
        out_.append("Received HTTP response from ").append(host_).append(path_).append("...\n");
        if (opt_.verbose > 0) {
            out_.append("Connection: ")
                .append(info_.reused_connection ? "reused (keep-alive)" : "new")
                .append(", TLS session ")
                .append(info_.tls_resumed ? "resumed" : "full handshake")
                .append(", ALPN ")
                .append(info_.alpn.empty() ? "none" : "negotiated: ")
                .append(info_.alpn)
                .append("\nProxy: ")
                .append(info_.proxy_reason.empty() ? "none (not configured)" : info_.proxy_reason)
                .append("\nAddress: ")
                .append(info_.remote_ip.find(':') != std::string::npos ? "[" + info_.remote_ip + "]"
                                                                       : info_.remote_ip)
                .append(":")
                .append(std::to_string(info_.remote_port))
                .append("\nResponse Headers:\n");
            for (const auto& [name, value] : head_.headers)
                out_.append("    ")
                    .append(name)
                    .append(": ")
                    .append(core::redact_header(name, value))
                    .append("\n");
        }
        out_.append("Response Status:\n")
            .append(std::to_string(info_.status))
            .append(" ")
            .append(head_.reason)
            .append("\nResponse Body:\n")
            .append(body_.c_str()) // as printf's %s did: up to a NUL in the body
            .append("\n");
        std::fwrite(out_.data(), 1, out_.size(), stdout);
        // Flushed by the next attempt (after its request is sent) or by finish().
    }

    std::string reason(const boost::system::error_code& ec) const {
        if (ec.category() == aws::aws_category()) {
            const auto r = aws::parse_response(info_.status, body_);
            std::string out = ec.message();
            if (!r.message.empty())
                out += ": " + r.message;
            if (!r.trace_id.empty())
                out += " (traceId " + r.trace_id + ")";
            return out;
        }
        return http::describe(ec, info_);
    }

    void finish(const boost::system::error_code& ec, const retry::result& r) {
        if (!ec) {
            ++published_;
            if (number_ < opt_.count) {
                if (opt_.interval.count() == 0) {
                    publish(number_ + 1);
                    return;
                }
                pause_.expires_after(opt_.interval); // --interval
                pause_.async_wait([this](const boost::system::error_code& e) {
                    if (e)
                        return finish(boost::asio::error::operation_aborted, {});
                    publish(number_ + 1);
                });
                return;
            }
            status_ = aws_post::exit_ok;
            std::fflush(stdout);
            reactor_.stop();
            return;
        }
        if (ec == boost::asio::error::operation_aborted) {
            std::printf("Publishing interrupted.\n");
            status_ = aws_post::exit_interrupted;
        } else if (ec == retry::error::retries_exhausted) {
            std::printf("attempt %u failed: %s; all %u attempts exhausted\n", r.attempts,
                        reason(r.last_error).c_str(), opt_.attempts);
            if (r.last_error.category() != aws::aws_category())
                std::printf("Connection to the server failed, all attempts exhausted.\n");
            status_ = status_for(r.last_error) == aws_post::exit_http_status ? aws_post::exit_http_status
                                                                             : aws_post::exit_connection;
        } else {
            std::printf("attempt %u failed: %s; not retried\n", r.attempts, reason(ec).c_str());
            status_ = status_for(ec);
        }
        std::fflush(stdout);
        reactor_.stop();
    }

    core::reactor& reactor_;
    http::client& client_;
    http::request req_;
    const aws_post::options& opt_;
    std::string host_;
    std::string path_;
    boost::asio::cancellation_signal cancel_;
    boost::asio::steady_timer pause_{client_.get_executor()}; ///< --interval between publishes
    std::uint32_t number_ = 0;
    std::uint32_t published_ = 0;
    int status_ = aws_post::exit_interrupted; ///< until finish() says otherwise
    http::response_head head_;
    http::transfer_info info_;
    std::string body_;
    std::string out_; ///< the lines of one message, written at once
    std::optional<milliseconds> retry_after_;
    std::function<boost::system::error_code(http::request&)> sign_;
    prepare_fn prepare_;
    std::function<boost::system::error_code(unsigned, std::string_view)> judge_ =
        [](unsigned status, std::string_view body) { return aws::parse_response(status, body).error; };
};

/// What the demo endpoint decoded from the last publish, as one JSON line (so that the MQTT 5 properties
/// can be seen arriving).
void report_demo_publish(const devserver::received_publish& p) {
    boost::json::object o{
        {"topic", p.topic}, {"qos", p.qos}, {"retain", p.retain}, {"payloadBytes", p.payload.size()}};
    if (!p.content_type.empty())
        o["contentType"] = p.content_type;
    if (!p.response_topic.empty())
        o["responseTopic"] = p.response_topic;
    if (p.message_expiry)
        o["messageExpiry"] = *p.message_expiry;
    if (!p.user_properties.empty()) {
        boost::json::array props;
        for (const auto& up : p.user_properties)
            props.push_back(boost::json::object{{up.name, up.value}});
        o["userProperties"] = std::move(props);
    }
    if (!p.payload_format.empty())
        o["payloadFormat"] = p.payload_format;
    if (!p.correlation_data.empty())
        o["correlationData"] = aws::base64_encode(p.correlation_data);
    std::printf("Demo endpoint received: %s\n", boost::json::serialize(o).c_str());
}

/// One line on the shadow's answer: the version and delta, or the named shadows.
void report_shadow(const aws_post::options& opt, const std::string& body) {
    const std::string which = opt.shadow_name.empty() ? "classic shadow" : "shadow '" + opt.shadow_name + "'";
    if (opt.shadow_action == "list") {
        const auto list = aws::parse_named_shadow_list(200, body);
        std::string names;
        for (const auto& n : list.names)
            names += (names.empty() ? "" : ", ") + n;
        std::printf("Named shadows of %s: %s%s\n", opt.thing.c_str(),
                    names.empty() ? "(none)" : names.c_str(),
                    list.next_token.empty() ? "" : " (more: nextToken)");
        return;
    }
    const auto doc = aws::parse_shadow_response(200, body);
    std::printf("Shadow of %s, %s: version %s", opt.thing.c_str(), which.c_str(),
                doc.version ? std::to_string(*doc.version).c_str() : "?");
    if (!doc.delta.is_null())
        std::printf(", delta %s", boost::json::serialize(doc.delta).c_str());
    std::printf("\n");
}

/// Access keys for --demo --auth sigv4 without keys in the environment: random, for this run only.
aws::signing_credentials demo_keys() {
    std::random_device random;
    std::string secret;
    for (int i = 0; i < 30; ++i)
        secret += static_cast<char>(random() & 0xff);
    return {.access_key_id = "AKIDEDGELOOPDEMO",
            .secret_access_key = aws::base64_encode(secret),
            .session_token = {},
            .expiration = {}};
}

std::optional<std::string> read_message_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int run(const aws_post::options& opt) {
    core::log::set_level(opt.verbose >= 2 ? core::log_level::debug : core::log_level::warn);
    core::reactor reactor;

    std::string payload = opt.message;
    if (!opt.message_file.empty()) {
        auto content = read_message_file(opt.message_file);
        if (!content) {
            std::fprintf(stderr, "aws_post: --message-file %s: cannot read (%s)\n", opt.message_file.c_str(),
                         std::strerror(errno));
            return aws_post::exit_config;
        }
        payload = std::move(*content);
    }

    aws::credentials creds{
        .ca_file = opt.cacert,
        .identity = tls::identity::from_arguments(opt.cert, opt.key, opt.pass, {.file = opt.pin_file}),
        .sni = !opt.no_sni,
        .sni_name = opt.sni};
    aws::publish_request publish{.endpoint = opt.endpoint,
                                 .port = opt.port,
                                 .topic = opt.topic,
                                 .qos = opt.qos,
                                 .retain = opt.retain,
                                 .payload = std::move(payload)};
    publish.mqtt_content_type = opt.content_type;
    publish.response_topic = opt.response_topic;
    publish.message_expiry = opt.message_expiry;
    for (const auto& [name, value] : opt.user_properties)
        publish.user_properties.push_back({name, value});
    if (opt.payload_format == "bytes")
        publish.format = aws::payload_format::unspecified_bytes;
    else if (opt.payload_format == "utf8")
        publish.format = aws::payload_format::utf8_data;
    publish.correlation_data = opt.correlation_data;

    // --auth sigv4: access keys from the environment (the demo makes its own when there are none).
    const bool sigv4 = opt.auth == "sigv4";
    std::optional<aws::signing_credentials> keys;
    std::string region = opt.region;
    const bool provider = sigv4 && !opt.role_alias.empty();
    if (sigv4 && !provider) {
        keys = aws::credentials_from_environment();
        if (!keys && opt.demo)
            keys = demo_keys();
        if (!keys) {
            std::fprintf(stderr, "aws_post: --auth sigv4: no credentials: set AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)\n");
            return aws_post::exit_config;
        }
    }
    if (sigv4) {
        if (region.empty())
            region = aws::region_of_endpoint(opt.endpoint);
        if (region.empty() && opt.demo)
            region = "us-east-1";
        if (region.empty()) {
            std::fprintf(stderr,
                         "aws_post: --auth sigv4: the region cannot be told from --endpoint %s; give "
                         "--region\nTry 'aws_post --help' for more information.\n",
                         opt.endpoint.c_str());
            return aws_post::exit_usage;
        }
    }

    // --demo: an endpoint that demands what AWS IoT demands (a client certificate from its CA; ALPN
    // x-amzn-http-ca when the logical port is 443), in the edgeloop-demo-server child process. The
    // connection goes to its real port; ALPN follows the logical --port.
    std::unique_ptr<app_common::demo_server_process> demo_server;
    if (opt.demo) {
        app_common::demo_server_options dopts{.require_client_certificate = !sigv4};
        if (opt.port == 443 && !sigv4)
            dopts.alpn = {std::string(aws::alpn_protocol)};
        if (sigv4) {
            dopts.sigv4_credentials = keys;
            dopts.sigv4_region = region;
            // --role-alias: the demo endpoint is the credentials provider too.
            dopts.credentials_role_alias = opt.role_alias;
        }
        demo_server = std::make_unique<app_common::demo_server_process>(reactor.executor(), dopts);
        if (creds.ca_file.empty())
            creds.ca_file = demo_server->ca_file();
        bool issued = false;
        if (creds.identity.empty() && (!sigv4 || provider)) {
            // In memory only: the demo's key is never written to disk.
            auto [cert_pem, key_pem] = demo_server->issue_client_certificate_pem();
            creds.identity = tls::identity::pem(std::move(cert_pem), std::move(key_pem));
            issued = true;
        }
        publish.endpoint = "127.0.0.1";
        publish.port = demo_server->port();
        if (provider) {
            std::printf("Demo endpoint listening on 127.0.0.1:%u for port %u (SigV4 signature required), "
                        "credentials provider for role alias %s (client certificate required)\n",
                        publish.port, opt.port, opt.role_alias.c_str());
            std::printf("Demo client certificate %s, CA %s\n",
                        issued ? "issued in memory (not written to disk)" : creds.identity.describe().c_str(),
                        creds.ca_file.c_str());
        } else if (sigv4) {
            std::printf("Demo endpoint listening on 127.0.0.1:%u for port %u (SigV4 signature required)\n",
                        publish.port, opt.port);
            std::printf("Demo CA %s\n", creds.ca_file.c_str());
        } else {
            std::printf(
                "Demo endpoint listening on 127.0.0.1:%u for port %u (client certificate required%s)\n",
                publish.port, opt.port, opt.port == 443 ? ", ALPN x-amzn-http-ca required" : "");
            std::printf("Demo client certificate %s, CA %s\n",
                        issued ? "issued in memory (not written to disk)" : creds.identity.describe().c_str(),
                        creds.ca_file.c_str());
        }
    }

    // --role-alias: the credentials provider's endpoint (the demo's own one with --demo).
    aws::credentials_request provider_request{.endpoint = opt.credentials_endpoint,
                                              .port = opt.credentials_port,
                                              .role_alias = opt.role_alias,
                                              .thing_name = opt.thing};
    if (opt.demo && provider) {
        provider_request.endpoint = "127.0.0.1";
        provider_request.port = publish.port;
    }
    if (provider) {
        if (auto bad = aws::make_credentials_request(provider_request); !bad) {
            std::fprintf(stderr,
                         "aws_post: --role-alias/--credentials-endpoint: %s\nTry 'aws_post --help' for more "
                         "information.\n",
                         bad.error().message().c_str());
            return aws_post::exit_usage;
        }
        std::printf(
            "Signing with SigV4: temporary credentials from the credentials provider %s:%u, role alias "
            "%s%s%s, region %s, service %s\n",
            provider_request.endpoint.c_str(), provider_request.port, opt.role_alias.c_str(),
            opt.thing.empty() ? "" : ", thing ", opt.thing.c_str(), region.c_str(),
            std::string(aws::iot_data_service).c_str());
    } else if (sigv4)
        // The key id identifies, the secret and the token authenticate: only the first is shown.
        std::printf("Signing with SigV4: access key id %s, region %s, service %s%s\n",
                    keys->access_key_id.c_str(), region.c_str(), std::string(aws::iot_data_service).c_str(),
                    keys->session_token.empty() ? "" : ", with a session token");
    else if (creds.identity.empty())
        std::printf("Warning: no client certificate (--cert/--key); AWS IoT refuses such connections.\n");

    boost::system::result<http::request> req = http::request{};
    const aws::shadow_request shadow{
        .endpoint = publish.endpoint, .port = publish.port, .thing = opt.thing, .name = opt.shadow_name};
    if (opt.shadow_action.empty())
        req = aws::make_publish_request(publish);
    else if (opt.shadow_action == "get")
        req = aws::make_shadow_get_request(shadow);
    else if (opt.shadow_action == "update")
        req = aws::make_shadow_update_request(shadow, publish.payload, opt.version);
    else if (opt.shadow_action == "delete")
        req = aws::make_shadow_delete_request(shadow);
    else
        req = aws::make_list_named_shadows_request(shadow);
    if (!req) {
        std::fprintf(stderr, "aws_post: %s\nTry 'aws_post --help' for more information.\n",
                     req.error().message().c_str());
        return aws_post::exit_usage;
    }
    // Delivery is at least once already: a publish whose response was lost is sent again by the retry
    // loop. So a kept-alive connection found closed as the POST goes out may resend it at once on a fresh
    // one, rather than fail the attempt and wait a backoff delay to send the same message again.
    req->replayable = true;

    std::optional<tls::context> tls_ctx;
    std::optional<tls::context> provider_tls; // the device certificate, for the credentials provider only
    try {
        if (provider) {
            auto device = aws::make_tls_options(creds, provider_request.port);
            device.alpn.clear(); // the credentials provider speaks plain HTTPS with mutual TLS
            provider_tls.emplace(std::move(device));
            creds.identity = {}; // SigV4 requests go without the certificate
        }
        auto tls_options = aws::make_tls_options(creds, opt.port);
        if (sigv4)
            tls_options.alpn.clear(); // AWS IoT takes SigV4 on 443 without ALPN
        tls_ctx.emplace(std::move(tls_options));
    } catch (const tls::config_error& e) {
        std::fprintf(stderr, "aws_post: %s\n", e.what());
        return aws_post::exit_config;
    }

    http::client_options copts;
    if (opt.connect_timeout)
        copts.timeouts.resolve = copts.timeouts.connect = copts.timeouts.handshake = *opt.connect_timeout;
    if (opt.max_time)
        copts.timeouts.total = *opt.max_time;
    copts.limits.max_body_bytes = 64 * 1024; // AWS answers a few dozen bytes; anything big is not AWS
    copts.redirects.follow = false;          // AWS IoT never redirects a publish
    copts.pool.max_per_host = 1;
    copts.proxy = app_common::to_proxy_options(opt.proxy);
    copts.connect = opt.connect;
    app_common::apply_keepalive(opt.connect_cli, copts.pool);
    http::client client(reactor.executor(), std::move(*tls_ctx), copts);
    // The device certificate is reloaded when its files change or on SIGHUP (rotation): into the
    // client that presents it (the credentials provider's with --role-alias, set below).
    http::client* identity_client = provider ? nullptr : &client;
    std::optional<tls::identity_watch> identity_watch;
    app_common::watch_identity("aws_post", reactor, identity_watch,
                               {opt.cert, opt.key, opt.pass, opt.pin_file}, identity_client);
    std::optional<tls::expiry_check> expiry_check; // daily: "client certificate ... expires ..., in N days"
    app_common::check_expiry_daily(reactor, expiry_check, identity_client);

    if (!opt.spool.empty()) { // store and forward (spool_mode.cpp)
        if (demo_server)
            reactor.on_stop([&] { demo_server->stop(); });
        std::function<boost::system::error_code(http::request&)> sign;
        if (sigv4)
            sign = [&keys, &region](http::request& r) {
                return aws::sign_request(r, *keys, region, aws::iot_data_service,
                                         std::chrono::system_clock::now());
            };
        return aws_post::run_spool(opt, reactor, client, publish, std::move(sign));
    }
    publisher pub(reactor, client, std::move(*req), opt);
    if (opt.shadow_action == "list")
        pub.judge_with([](unsigned status, std::string_view body) {
            return aws::parse_named_shadow_list(status, body).error;
        });
    else if (!opt.shadow_action.empty())
        pub.judge_with([](unsigned status, std::string_view body) {
            return aws::parse_shadow_response(status, body).error;
        });
    std::optional<http::client> provider_client;
    std::optional<aws::credentials_provider> credentials;
    if (provider) {
        http::client_options popts = copts;
        popts.pool.max_per_host = 1;
        provider_client.emplace(reactor.executor(), std::move(*provider_tls), popts);
        credentials.emplace(*provider_client, provider_request);
        identity_client = &*provider_client;
        // Before each attempt: the cached credentials, or new ones when they are within 5 minutes of
        // their expiry (fetched on this loop while nothing else waits).
        pub.prepare_with([&credentials, &keys](std::function<void(boost::system::error_code)> done) {
            const auto before = credentials->fetches();
            credentials->async_get([&credentials, &keys, before, done = std::move(done)](
                                       boost::system::error_code ec, aws::signing_credentials c) {
                if (ec) {
                    const auto& r = credentials->last_response();
                    std::printf("Credentials provider: %s%s%s%s%s\n", ec.message().c_str(),
                                r.error_type.empty() ? "" : " (x-amzn-ErrorType ", r.error_type.c_str(),
                                r.error_type.empty() ? "" : ")",
                                r.message.empty() ? "" : (": " + r.message).c_str());
                } else {
                    if (credentials->fetches() != before) {
                        const auto expiry = std::chrono::system_clock::to_time_t(*c.expiration);
                        std::tm tm{};
                        ::gmtime_r(&expiry, &tm);
                        char when[32];
                        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
                        // The key id identifies; the secret and the session token are never shown.
                        std::printf("Fetched temporary credentials: access key id %s, with a session token, "
                                    "expiring %s\n",
                                    c.access_key_id.c_str(), when);
                    }
                    keys = std::move(c);
                }
                done(ec);
            });
        });
    }
    if (sigv4)
        pub.sign_with([&keys, &region](http::request& r) {
            return aws::sign_request(r, *keys, region, aws::iot_data_service,
                                     std::chrono::system_clock::now());
        });
    reactor.on_stop([&] {
        pub.cancel();
        client.cancel_all();
        if (provider_client)
            provider_client->cancel_all();
        if (demo_server)
            demo_server->stop();
    });
    pub.start();
    reactor.run();

    const int status = pub.exit_code();
    if (demo_server)
        if (const auto got = demo_server->last_publish())
            report_demo_publish(*got);
    if (status == aws_post::exit_ok && !opt.shadow_action.empty())
        report_shadow(opt, pub.last_body());
    if (status == aws_post::exit_ok)
        std::printf("Demo completed successfully.\n");
    else
        std::printf("Demo failed: %u of %u messages published.\n", pub.published(), opt.count);
    return status;
}

} // namespace

int main(int argc, char* argv[]) {
    aws_post::options opt;
    try {
        opt = aws_post::parse_options(argc, argv);
    } catch (const aws_post::usage_error& e) {
        std::fprintf(stderr, "aws_post: %s\nTry 'aws_post --help' for more information.\n", e.what());
        return aws_post::exit_usage;
    }
    if (opt.help) {
        std::cout << aws_post::help_text();
        return aws_post::exit_ok;
    }
    if (opt.spool_status || opt.spool_dead_letters)
        return aws_post::show_spool(opt);
    try {
        return run(opt);
    } catch (const app_common::demo_server_error& e) { // --demo's server program missing or broken
        std::fprintf(stderr, "aws_post: --demo: %s\n", e.what());
        return app_common::exit_demo_server;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aws_post: %s\n", e.what());
        return aws_post::exit_config;
    }
}
