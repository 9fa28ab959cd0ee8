#pragma once

#include <edgeloop/aws/credentials.hpp>
#include <edgeloop/aws/credentials_cache.hpp>
#include <edgeloop/aws/credentials_provider.hpp>
#include <edgeloop/aws/credentials_request.hpp>
#include <edgeloop/aws/credentials_response.hpp>
#include <edgeloop/aws/error.hpp>
#include <edgeloop/aws/payload_format.hpp>
#include <edgeloop/aws/publish.hpp>
#include <edgeloop/aws/response.hpp>
#include <edgeloop/aws/shadow_document.hpp>
#include <edgeloop/aws/shadow_request.hpp>
#include <edgeloop/aws/signing_credentials.hpp>
#include <edgeloop/aws/sigv4.hpp>
#include <edgeloop/aws/tls.hpp>
#include <edgeloop/aws/user_property.hpp>
