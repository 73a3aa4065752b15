"""The route table of /api/v1, assembled from the route groups: the router and the OpenAPI document
are made from it (see `outreach.web.api.registry`), in this order."""

from __future__ import annotations

from outreach.web.api.audit_routes import AUDIT_ROUTES
from outreach.web.api.campaign_routes import CAMPAIGN_ROUTES
from outreach.web.api.campaign_writes import CAMPAIGN_WRITE_ROUTES
from outreach.web.api.export_routes import EXPORT_ROUTES
from outreach.web.api.flow_results_routes import FLOW_RESULTS_ROUTES
from outreach.web.api.import_job_routes import IMPORT_JOB_ROUTES
from outreach.web.api.launch_request_routes import LAUNCH_REQUEST_ROUTES
from outreach.web.api.participation_routes import PARTICIPATION_ROUTES
from outreach.web.api.registry import ApiRoute
from outreach.web.api.resident_routes import RESIDENT_ROUTES
from outreach.web.api.response_routes import RESPONSE_ROUTES
from outreach.web.api.result_routes import RESULT_ROUTES
from outreach.web.api.rights_routes import RIGHTS_ROUTES
from outreach.web.api.token_routes import CURRENT_TOKEN_ROUTE, TOKEN_ROUTES
from outreach.web.api.webhook_subscription_routes import WEBHOOK_SUBSCRIPTION_ROUTES

ROUTES: list[ApiRoute] = [
    CURRENT_TOKEN_ROUTE,
    *CAMPAIGN_ROUTES,
    *CAMPAIGN_WRITE_ROUTES,
    *LAUNCH_REQUEST_ROUTES,
    *RESPONSE_ROUTES,
    *RESULT_ROUTES,
    *PARTICIPATION_ROUTES,
    *EXPORT_ROUTES,
    *FLOW_RESULTS_ROUTES,
    *RESIDENT_ROUTES,
    *IMPORT_JOB_ROUTES,
    *RIGHTS_ROUTES,
    *TOKEN_ROUTES,
    *AUDIT_ROUTES,
    *WEBHOOK_SUBSCRIPTION_ROUTES,
]
