#pragma once

// What multi_fetch reports per finished transfer for scripts: curl's -w/--write-out format and the
// --json-lines objects (the same fields as %{json}).

#include <edgeloop/http/response.hpp>

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>

namespace multi_fetch {

/// One finished transfer, as -w and --json-lines see it.
struct transfer_report {
    const edgeloop::http::transfer_info& info;
    const edgeloop::http::header_list& headers; ///< the final response's fields (empty without one)
    std::uint64_t upload_bytes = 0;             ///< request body bytes
    int exitcode = 0;                           ///< this transfer's own exit status (0 or 1)
    std::string errormsg;                       ///< "" when it succeeded
    bool verified = true;                       ///< the server certificate checked (not --insecure)
};

/// curl's %{header_json}: each field name (lower case) with the array of its values.
boost::json::object header_json(const edgeloop::http::header_list& headers);

/// curl's %{json}: every variable below as one object.
boost::json::object json_of(const transfer_report& r);

/// Expands a -w format for one transfer and writes it to stdout, or to stderr after %{stderr} (until
/// %{stdout}). Variables: http_code, response_code, size_download, size_upload, time_namelookup,
/// time_connect, time_appconnect, time_starttransfer, time_total, url_effective, num_redirects,
/// num_connects, remote_ip, remote_port, ssl_verify_result, errormsg, exitcode, header_json, json;
/// \n, \r, \t and %% as curl reads them. An unknown variable is written as curl does: nothing, with a
/// warning on stderr once.
void write_out(const std::string& format, const transfer_report& r);

} // namespace multi_fetch
