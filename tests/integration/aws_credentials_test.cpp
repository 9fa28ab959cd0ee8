// aws::credentials_provider against the devserver's credentials endpoint: temporary credentials fetched
// over mutual TLS, cached, refused with named errors, and accepted by the devserver's SigV4 check.
#include <edgeloop/aws/credentials_provider.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/publish.hpp>
#include <edgeloop/aws/sigv4.hpp>
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>

namespace aws = edgeloop::aws;
namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

edgeloop::devserver::options provider_options(std::chrono::seconds lifetime = 3600s, std::size_t failures = 0,
                                              unsigned failure_status = 429) {
    edgeloop::devserver::options o;
    o.credentials_role_alias = "gw-role";
    o.credentials_lifetime = lifetime;
    o.credentials_failures = failures;
    o.credentials_failure_status = failure_status;
    return o;
}

struct provider_fixture {
    explicit provider_fixture(edgeloop::devserver::options o = provider_options())
        : server(ioc.get_executor(), std::move(o)) {}

    boost::asio::io_context ioc;
    edgeloop::devserver::server server;
    /// With the device certificate (for the credentials endpoint).
    http::client device{ioc.get_executor(), device_tls()};
    /// Without one (for SigV4 requests, and to show the endpoint wants a certificate).
    http::client plain{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};

    tls::context device_tls() const {
        auto [cert, key] = server.issue_client_certificate_pem();
        tls::options o{.ca_file = server.ca_file()};
        o.client_identity = tls::identity::pem(std::move(cert), std::move(key));
        return tls::context(std::move(o));
    }

    aws::credentials_request request(std::string alias = "gw-role") const {
        return {.endpoint = "127.0.0.1",
                .port = server.port(),
                .role_alias = std::move(alias),
                .thing_name = "gw-1"};
    }

    struct outcome {
        boost::system::error_code ec;
        aws::signing_credentials creds;
        bool done = false;
    };

    /// Starts async_get and runs the loop until it completes (bounded).
    outcome get(aws::credentials_provider& p) {
        outcome out;
        p.async_get([&out](boost::system::error_code ec, aws::signing_credentials c) {
            out = {ec, std::move(c), true};
        });
        BOOST_REQUIRE_MESSAGE(run_until(
                                  ioc, [&] { return out.done; }, 20s),
                              "async_get did not complete");
        return out;
    }

    unsigned signed_publish_status(const aws::signing_credentials& creds) {
        aws::publish_request pr;
        pr.endpoint = "127.0.0.1";
        pr.port = server.port();
        pr.topic = "sensors/gw-1";
        pr.payload = R"({"temp":21.5})";
        auto req = aws::make_publish_request(pr);
        BOOST_REQUIRE(req);
        BOOST_REQUIRE(!aws::sign_request(*req, creds, "us-east-1", aws::iot_data_service,
                                         std::chrono::system_clock::now()));
        return fetch(ioc, plain, std::move(*req)).info.status;
    }
};

struct short_lived : provider_fixture {
    short_lived()
        : provider_fixture(provider_options(60s)) {}
};
struct throttled_once : provider_fixture {
    throttled_once()
        : provider_fixture(provider_options(3600s, 1, 429)) {}
};
struct already_expired : provider_fixture {
    already_expired()
        : provider_fixture(provider_options(0s)) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(aws_credentials_provider)

BOOST_FIXTURE_TEST_CASE(temporary_credentials_over_mutual_tls_sign_an_accepted_publish, provider_fixture) {
    aws::credentials_provider provider(device, request());
    const auto got = get(provider);
    BOOST_REQUIRE_MESSAGE(!got.ec, got.ec.message());
    BOOST_TEST(got.creds.access_key_id.starts_with("ASIA"));
    BOOST_TEST(!got.creds.session_token.empty());
    BOOST_REQUIRE(got.creds.expiration.has_value());
    BOOST_TEST((*got.creds.expiration > std::chrono::system_clock::now() + 50min));
    BOOST_TEST(server.last_thing_name() == "gw-1");
    BOOST_TEST(provider.last_response().status == 200u);
    BOOST_TEST(provider.last_response().credentials.secret_access_key.empty()); // kept in the cache only
    BOOST_TEST(signed_publish_status(got.creds) == 200u);
    BOOST_REQUIRE(server.last_publish());
    BOOST_TEST(server.last_publish()->topic == "sensors/gw-1");
    // Without the session token the same keys are refused.
    auto no_token = got.creds;
    no_token.session_token.clear();
    BOOST_TEST(signed_publish_status(no_token) == 403u);
}

BOOST_FIXTURE_TEST_CASE(credentials_are_cached_and_concurrent_callers_share_one_fetch, provider_fixture) {
    aws::credentials_provider provider(device, request());
    outcome a, b;
    provider.async_get([&a](boost::system::error_code ec, aws::signing_credentials c) { a = {ec, c, true}; });
    provider.async_get([&b](boost::system::error_code ec, aws::signing_credentials c) { b = {ec, c, true}; });
    BOOST_REQUIRE(run_until(
        ioc, [&] { return a.done && b.done; }, 20s));
    BOOST_TEST(!a.ec);
    BOOST_TEST(!b.ec);
    BOOST_TEST(a.creds.access_key_id == b.creds.access_key_id);
    const auto c = get(provider);
    BOOST_TEST(c.creds.access_key_id == a.creds.access_key_id);
    BOOST_TEST(provider.fetches() == 1u);
    BOOST_TEST(server.credentials_issued() == 1u);
    provider.invalidate();
    const auto d = get(provider);
    BOOST_TEST(!d.ec);
    BOOST_TEST(d.creds.access_key_id != a.creds.access_key_id);
    BOOST_TEST(provider.fetches() == 2u);
}

BOOST_FIXTURE_TEST_CASE(credentials_within_the_refresh_margin_are_fetched_again, short_lived) {
    // 60 s credentials against the default 5-minute margin: used once, then replaced.
    aws::credentials_provider provider(device, request());
    const auto a = get(provider);
    BOOST_REQUIRE(!a.ec);
    const auto b = get(provider);
    BOOST_REQUIRE(!b.ec);
    BOOST_TEST(a.creds.access_key_id != b.creds.access_key_id);
    BOOST_TEST(provider.fetches() == 2u);
    BOOST_TEST(signed_publish_status(b.creds) == 200u);
    // A margin under their lifetime keeps them.
    aws::credentials_provider patient(device, request(), 10s);
    const auto c = get(patient);
    const auto d = get(patient);
    BOOST_TEST(c.creds.access_key_id == d.creds.access_key_id);
    BOOST_TEST(patient.fetches() == 1u);
}

BOOST_FIXTURE_TEST_CASE(without_a_client_certificate_the_endpoint_answers_forbidden, provider_fixture) {
    aws::credentials_provider provider(plain, request());
    const auto got = get(provider);
    BOOST_TEST(got.ec == make_error_code(aws::error::forbidden));
    BOOST_TEST(provider.last_response().error_type == "ForbiddenException");
    BOOST_TEST(provider.last_response().message == "A client certificate is required");
    BOOST_TEST(!got.creds.complete());
    BOOST_TEST(server.credentials_issued() == 0u);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_role_alias_is_named, provider_fixture) {
    aws::credentials_provider provider(device, request("someone-elses-role"));
    BOOST_TEST(get(provider).ec == make_error_code(aws::error::not_found));
    BOOST_TEST(provider.last_response().error_type == "ResourceNotFoundException");
    aws::credentials_provider invalid(device, request("a/b"));
    BOOST_TEST(get(invalid).ec == make_error_code(aws::error::invalid_role_alias));
    BOOST_TEST(invalid.fetches() == 0u);
}

BOOST_FIXTURE_TEST_CASE(throttling_is_named_retryable_and_passes, throttled_once) {
    aws::credentials_provider provider(device, request());
    const auto first = get(provider);
    BOOST_TEST(first.ec == make_error_code(aws::error::throttled));
    BOOST_TEST(aws::is_retryable(first.ec));
    BOOST_TEST(provider.last_response().error_type == "ThrottlingException");
    const auto second = get(provider);
    BOOST_TEST(!second.ec);
    BOOST_TEST(provider.last_response().error_type.empty());
}

BOOST_FIXTURE_TEST_CASE(expired_credentials_are_refused_by_both_sides, already_expired) {
    aws::credentials_provider provider(device, request());
    BOOST_TEST(get(provider).ec == make_error_code(aws::error::credentials_expired));
    // Had the client used them, the SigV4 check refuses them as AWS does.
    auto req = aws::make_credentials_request(request());
    BOOST_REQUIRE(req);
    const auto out = fetch(ioc, device, std::move(*req));
    const auto parsed = aws::parse_credentials_response(out.info.status, "", out.body);
    BOOST_REQUIRE(!parsed.error);
    aws::publish_request pr;
    pr.endpoint = "127.0.0.1";
    pr.port = server.port();
    pr.topic = "t";
    auto pub = aws::make_publish_request(pr);
    BOOST_REQUIRE(pub);
    BOOST_REQUIRE(!aws::sign_request(*pub, parsed.credentials, "us-east-1", aws::iot_data_service,
                                     std::chrono::system_clock::now()));
    const auto refused = fetch(ioc, plain, std::move(*pub));
    BOOST_TEST(refused.info.status == 403u);
    BOOST_TEST(refused.body.find("expired") != std::string::npos, refused.body);
    BOOST_TEST(!server.last_publish());
}

BOOST_AUTO_TEST_SUITE_END()
