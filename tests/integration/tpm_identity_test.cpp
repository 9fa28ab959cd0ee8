// Client identities with the private key in a TPM 2.0 (tls::identity::tpm): a software TPM (swtpm, socket
// mode) started by the test, keys made in it by tests/pki/swtpm-key.sh (tpm2-tools and the tpm2-openssl
// provider), certificates from the test CA; mutual TLS to nginx (ssl_verify_client on).
#include <edgeloop/http/client.hpp>
#include <edgeloop/tls/identity.hpp>

#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sys/wait.h>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// Two software TPMs with the same state (keys made once, then the state copied): swtpm serves one client
/// connection at a time and the tpm2 provider of this process keeps its connection open, so child
/// processes (the apps) use the second one.
struct software_tpms {
    std::string dir = make_temp_dir("edgeloop-swtpm-");
    std::string own_tcti;   ///< for this process
    std::string child_tcti; ///< for the apps
    child_process own;
    child_process child;

    software_tpms() {
        namespace fs = std::filesystem;
        fs::create_directories(dir + "/state");
        std::uint16_t port = 0;
        own = start(dir + "/state", port, "swtpm.log");
        own_tcti = tcti(port);
        const std::string command = std::string(EDGELOOP_SWTPM_SCRIPT) + " '" + dir + "/keys' '" +
                                    pki::dir() + "' '" + own_tcti + "' 1>&2";
        const int status = std::system(command.c_str());
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("swtpm: " + command + " failed");
        // The persistent key is in the state once the TPM has written it: stop, copy, restart both.
        own.stop();
        fs::copy(dir + "/state", dir + "/state2", fs::copy_options::recursive);
        own = start(dir + "/state", port, "swtpm.log");
        own_tcti = tcti(port);
        std::uint16_t child_port = 0;
        child = start(dir + "/state2", child_port, "swtpm2.log");
        child_tcti = tcti(child_port);
        // Read by the tpm2 provider when it is first loaded in this process (the first TPM identity).
        ::setenv("TPM2OPENSSL_TCTI", own_tcti.c_str(), 1);
    }

    static std::string tcti(std::uint16_t port) {
        return "swtpm:host=127.0.0.1,port=" + std::to_string(port);
    }

    /// swtpm on a free port P and its control channel on P + 1 (where the swtpm TCTI looks for it);
    /// another port when P + 1 was taken.
    child_process start(const std::string& state, std::uint16_t& port, const std::string& log) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            port = free_port();
            const auto ctrl = static_cast<std::uint16_t>(port + 1);
            child_process p({"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state, "--server",
                             "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port), "--ctrl",
                             "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(ctrl), "--flags",
                             "not-need-init,startup-clear"},
                            dir + "/" + log);
            if (wait_for_port(ctrl, 10s) && p.running())
                return p;
            p.stop();
        }
        throw std::runtime_error("swtpm did not listen: " + read_file(dir + "/" + log));
    }

    std::string path(const std::string& name) const { return dir + "/keys/" + name; }
};

software_tpms& tpms() {
    static software_tpms instance;
    return instance;
}

fetch_outcome fetch_from_nginx(tls::identity id) {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client(ioc.get_executor(),
                        tls::context({.ca_file = pki::path("ca.crt"), .client_identity = id}));
    return fetch(ioc, client, get("https://localhost:" + std::to_string(nginx.mtls_port()) + "/hello.txt"));
}

tls::config_error config_error_of(tls::identity id) {
    try {
        tls::context ctx({.ca_file = pki::path("ca.crt"), .client_identity = std::move(id)});
    } catch (const tls::config_error& e) {
        return e;
    }
    return tls::config_error({}, "");
}

boost::test_tools::assertion_result handshake_wanted(boost::unit_test::test_unit_id) {
    const char* v = std::getenv("EDGELOOP_TPM_HANDSHAKE");
    boost::test_tools::assertion_result r(v != nullptr && std::string(v) == "1");
    r.message() << "the TPM handshake fails with Debian 12's tpm2-openssl (see above); "
                   "EDGELOOP_TPM_HANDSHAKE=1 runs it";
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tpm_identity)

// The three handshake cases below are disabled: with Debian 12's tpm2-openssl 1.1.1 and swtpm 0.7.1 the
// TPM key loads (the other cases) but the TLS handshake fails in the provider's signing, "tpm2::cannot
// duplicate context: tpm:warn(2.0): out of memory for object contexts" (EVP_DigestSign duplicates the
// signing context, which the provider does by saving and loading a TPM object, and the TPM has 3 slots);
// `openssl s_client -provider tpm2 -provider default -key handle:0x81000001` fails the same way. They are
// skipped unless EDGELOOP_TPM_HANDSHAKE=1:
//   EDGELOOP_TPM_HANDSHAKE=1 build/dev/tests/integration_tests --run_test=tpm_identity

BOOST_AUTO_TEST_CASE(persistent_handle_key_does_mutual_tls_with_nginx,
                     *boost::unit_test::precondition(handshake_wanted)) {
    auto out = fetch_from_nginx(tls::identity::tpm("handle:0x81000001", tpms().path("handle.crt")));
    BOOST_TEST(!out.ec, out.ec.message());
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
}

BOOST_AUTO_TEST_CASE(tss2_key_file_is_recognised_as_a_tpm_key,
                     *boost::unit_test::precondition(handshake_wanted)) {
    // Given as plain files (what --cert/--key name): the TSS2 PEM header routes it to the TPM.
    auto out = fetch_from_nginx(tls::identity::files(tpms().path("tss2.crt"), tpms().path("key.tss2")));
    BOOST_TEST(!out.ec, out.ec.message());
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(from_arguments_makes_a_handle_a_tpm_identity) {
    const auto id = tls::identity::from_arguments(tpms().path("handle.crt"), "handle:0x81000001");
    BOOST_TEST((id.type() == tls::identity::kind::tpm));
    BOOST_TEST(id.describe() == "TPM key handle:0x81000001, certificate " + tpms().path("handle.crt"));
}

BOOST_AUTO_TEST_CASE(missing_handle_and_mismatched_certificate_are_named) {
    auto e = config_error_of(tls::identity::tpm("handle:0x81000002", tpms().path("handle.crt")));
    BOOST_TEST(e.code() == make_error_code(tls::error::object_not_found), e.what());
    BOOST_TEST(std::string(e.what()).find("handle:0x81000002") != std::string::npos, e.what());
    e = config_error_of(tls::identity::tpm("handle:0x81000001", tpms().path("tss2.crt")));
    BOOST_TEST(e.code() == make_error_code(tls::error::key_mismatch), e.what());
    e = config_error_of(tls::identity::tpm("handle:0x81000001", ""));
    BOOST_TEST(e.code() == make_error_code(tls::error::key_without_certificate), e.what());
}

BOOST_AUTO_TEST_CASE(aws_post_publishes_with_a_tpm_key, *boost::unit_test::precondition(handshake_wanted)) {
    nginx_server nginx;
    const std::string log = tpms().dir + "/aws_post.log";
    child_process p({AWS_POST_BIN, "--endpoint", "localhost", "--port", std::to_string(nginx.mtls_port()),
                     "--cacert", pki::path("ca.crt"), "--key", "handle:0x81000001", "--cert",
                     tpms().path("handle.crt")},
                    log, {"TPM2OPENSSL_TCTI=" + tpms().child_tcti});
    const auto status = p.wait_for_exit(30s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0, read_file(log));
    BOOST_TEST(read_file(log).find("Response Status:\n200") != std::string::npos, read_file(log));
}

BOOST_AUTO_TEST_SUITE_END()
