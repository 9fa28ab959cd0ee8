#pragma once

// curl's --compressed, --etag-compare, --etag-save, -z/--time-cond and --max-filesize, turned into
// http::request fields; the ETag saved after a transfer.

#include "options.hpp"

#include <edgeloop/http/request.hpp>
#include <edgeloop/http/response.hpp>

#include <cstdio>
#include <string>

namespace multi_fetch {

/// Sets the request's download fields from the options. Read for each transfer, so that the files
/// (--etag-compare, -z FILE) are read afresh on each button press. Returns an error for the user
/// (--etag-compare FILE cannot be read, and no --etag-save creates it), empty when none.
/// `warnings` gets curl's warning for a -z that is neither a date nor a file (the condition is dropped).
std::string apply_conditions(const options& opt, edgeloop::http::request& req, std::FILE* warnings);

/// --etag-save: writes the response's ETag and a newline to FILE (- for stdout), replacing it whole;
/// nothing when the response had none. Returns an error for the user, empty when none.
std::string save_etag(const options& opt, const edgeloop::http::transfer_info& info);

} // namespace multi_fetch
