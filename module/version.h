#pragma once

#include "config.h"

#define MS_NAME       "knot-multisigner"
#define MS_VERSION    PACKAGE_VERSION
#define MS_USER_AGENT MS_NAME "/" MS_VERSION
