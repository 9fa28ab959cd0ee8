#pragma once

// The request multi_fetch sends for each URL, from curl's options (-H, -A, -e, -X, -d, --data-binary,
// --data-raw, --json, -T, -G): checked once at start-up, then made afresh per URL. Bodies from files and
// stdin are streamed (the library's body_file and body_source), never read whole.

#include "options.hpp"

#include <edgeloop/http/request.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace multi_fetch {

/// What a streamed body reports to its transfer: a read error (the transfer then counts as failed,
/// with this message) and how to stop the transfer when one happens (set once the transfer is added).
struct body_status {
    std::string error;
    std::function<void()> cancel;
    std::uint64_t upload_bytes = 0; ///< body bytes: known at once for memory and files, counted when streamed
};

class request_plan {
public:
    /// Reads -H @FILE lists and the --netrc-file, asks for the -u password on the terminal when it is
    /// missing, and checks every file a body will stream (exists, readable, a body file regular).
    /// Throws usage_error naming the option and the file.
    /// With `credentials_from`: its -u/--oauth2-bearer and --netrc-file credentials are taken, not asked
    /// for or read again (a plan for a -K group's options added to the command line's).
    explicit request_plan(const options& o, const request_plan* credentials_from = nullptr);

    /// The request for one URL. A streamed body reports read errors to `status`.
    edgeloop::http::request make(std::string url, const std::shared_ptr<body_status>& status) const;

    /// Whether the body reads stdin (-d @-, -T -): then only one transfer can have it.
    bool reads_stdin() const noexcept { return reads_stdin_; }
    /// Whether the default User-Agent was removed (-H "User-Agent:"); the client then sends none.
    bool user_agent_removed() const noexcept { return user_agent_removed_; }

    /// One piece of a streamed body: a literal, or a file ("-": stdin) whose CR and LF may be dropped.
    struct segment {
        std::string text;
        std::string path;
        bool strip_newlines = false;
    };

    struct netrc_entry {
        std::string machine; ///< empty: the "default" entry
        std::string login;
        std::string password;
    };

private:
    std::string method_;
    std::string authorization_;      ///< from -u or --oauth2-bearer ("" when none)
    bool own_authorization_ = false; ///< -H "Authorization..." given: it wins
    std::vector<netrc_entry> netrc_;
    edgeloop::http::header_list headers_;
    enum class body_kind { none, memory, file, stream } body_ = body_kind::none;
    std::string memory_;
    std::string file_;
    std::shared_ptr<const std::vector<segment>> segments_;
    std::string query_;       ///< -G: appended to each URL's query
    std::string upload_name_; ///< -T FILE: appended to a URL ending in '/'
    bool reads_stdin_ = false;
    bool user_agent_removed_ = false;
};

} // namespace multi_fetch
