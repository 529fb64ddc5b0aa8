"""The official Python SDK (tiktok-business-api-sdk-official) against `tiktok-ads mock`.

Run by tests/contract/run.sh with MOCK_URL set. Prints one line per check,
`python-sdk<TAB>check<TAB>ok|failed<TAB>records or reason`, and exits 1 when any check failed.
"""

import sys
import urllib.parse
import urllib.request

import business_api_client as sdk
from business_api_client.models.ad_create_body import AdCreateBody
from business_api_client.models.adcreate_creatives import AdcreateCreatives
from business_api_client.models.adgroup_create_body import AdgroupCreateBody
from business_api_client.models.campaign_create_body import CampaignCreateBody
from business_api_client.models.oauth2_access_token_body import Oauth2AccessTokenBody
from business_api_client.models.report_task_create_body import ReportTaskCreateBody

from common import MOCK, control

ADV = "7300000000000000001"
FAILED = []


APP = control("/_mock/app")


def check(name, call, count):
    """Runs `call`; `count` says how many records its `data` holds."""
    try:
        # The SDK raises on a non-zero code and answers {"data", "request_id"} otherwise.
        answer = call()
        if not answer.get("request_id"):
            raise RuntimeError(f"no request_id in {answer}")
        data = answer.get("data") or {}
        print(f"python-sdk\t{name}\tok\t{count(data)}")
        return data
    except Exception as e:  # the report says what failed and goes on
        FAILED.append(name)
        print(f"python-sdk\t{name}\tfailed\t{type(e).__name__}: {str(e)[:200]}")
        return None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def auth_code():
    """The consent page, as a browser would load it: the code is in the redirect."""
    query = urllib.parse.urlencode(
        {"app_id": APP["app_id"], "redirect_uri": "http://127.0.0.1:9/cb", "state": "contract"}
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{MOCK}/portal/auth?{query}")
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
        return urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["auth_code"][0]
    raise RuntimeError("the consent page did not redirect")


config = sdk.Configuration()
config.host = MOCK
client = sdk.ApiClient(config)
auth = sdk.AuthenticationApi(client)

grant = check(
    "oauth2/access_token",
    lambda: auth.oauth2_access_token(
        body=Oauth2AccessTokenBody(app_id=APP["app_id"], secret=APP["app_secret"], auth_code=auth_code())
    ),
    lambda d: len(d["advertiser_ids"]),
)
if grant is None:
    sys.exit(1)
TOKEN = grant["access_token"]

check(
    "oauth2/advertiser/get",
    lambda: auth.oauth2_advertiser_get(APP["app_id"], APP["app_secret"], TOKEN),
    lambda d: len(d["list"]),
)
check(
    "advertiser/info",
    lambda: sdk.AccountManagementApi(client).advertiser_info([ADV], TOKEN),
    lambda d: len(d["list"]),
)
bc = sdk.BCApi(client)
businesses = check("bc/get", lambda: bc.bc_get(TOKEN), lambda d: len(d["list"]))
if businesses:
    bc_id = businesses["list"][0]["bc_info"]["bc_id"]
    check("bc/asset/get", lambda: bc.bc_asset_get(bc_id, "ADVERTISER", TOKEN), lambda d: len(d["list"]))

campaigns = sdk.CampaignCreationApi(client)
listed = check(
    "campaign/get",
    lambda: campaigns.campaign_get(ADV, TOKEN, page_size=100),
    lambda d: len(d["list"]),
)
created = check(
    "campaign/create",
    lambda: campaigns.campaign_create(
        TOKEN,
        body=CampaignCreateBody(
            advertiser_id=ADV,
            campaign_name="SDK contract campaign",
            objective_type="TRAFFIC",
            budget_mode="BUDGET_MODE_DAY",
            budget=60.0,
        ),
    ),
    lambda d: 1 if len(d["campaign_id"]) == 19 else 0,
)
adgroups = sdk.AdgroupApi(client)
check("adgroup/get", lambda: adgroups.adgroup_get(ADV, TOKEN, page_size=100), lambda d: len(d["list"]))
adgroup = None
if created:
    adgroup = check(
        "adgroup/create",
        lambda: adgroups.adgroup_create(
            TOKEN,
            body=AdgroupCreateBody(
                advertiser_id=ADV,
                campaign_id=created["campaign_id"],
                adgroup_name="SDK contract ad group",
                promotion_type="WEBSITE",
                placement_type="PLACEMENT_TYPE_NORMAL",
                placements=["PLACEMENT_TIKTOK"],
                location_ids=["6252001"],
                budget_mode="BUDGET_MODE_DAY",
                budget=25.0,
                schedule_type="SCHEDULE_FROM_NOW",
                schedule_start_time="2030-01-01 00:00:00",
                optimization_goal="CLICK",
                billing_event="CPC",
                bid_type="BID_TYPE_NO_BID",
                pacing="PACING_MODE_SMOOTH",
            ),
        ),
        lambda d: 1,
    )
ads = sdk.AdApi(client)
check("ad/get", lambda: ads.ad_get(ADV, TOKEN, page_size=100), lambda d: len(d["list"]))
if adgroup:
    check(
        "ad/create",
        lambda: ads.ad_create(
            TOKEN,
            body=AdCreateBody(
                advertiser_id=ADV,
                adgroup_id=adgroup["adgroup_id"],
                creatives=[
                    AdcreateCreatives(
                        ad_name="SDK contract ad",
                        ad_format="SINGLE_VIDEO",
                        ad_text="Made by the contract suite",
                        video_id="v10033g50000contract",
                        identity_type="CUSTOMIZED_USER",
                        identity_id="7300000000000000111",
                        call_to_action="LEARN_MORE",
                        landing_page_url="https://example.com/",
                    )
                ],
            ),
        ),
        lambda d: len(d["ad_ids"]),
    )

reporting = sdk.ReportingApi(client)
shapes = {
    "report campaign x day": dict(data_level="AUCTION_CAMPAIGN", dimensions=["campaign_id", "stat_time_day"],
                                  start_date="2025-03-01", end_date="2025-03-30"),
    "report ad totals": dict(data_level="AUCTION_AD", dimensions=["ad_id"],
                             start_date="2025-03-01", end_date="2025-03-30"),
    "report ad group x hour": dict(data_level="AUCTION_ADGROUP", dimensions=["adgroup_id", "stat_time_hour"],
                                   start_date="2025-03-01", end_date="2025-03-01"),
    "report lifetime": dict(data_level="AUCTION_CAMPAIGN", dimensions=["campaign_id"], query_lifetime=True),
    "report advertiser x day": dict(data_level="AUCTION_ADVERTISER", dimensions=["advertiser_id", "stat_time_day"],
                                    start_date="2025-03-01", end_date="2025-03-07"),
}
for name, shape in shapes.items():
    check(
        name,
        lambda shape=shape: reporting.report_integrated_get(
            "BASIC", TOKEN, advertiser_id=ADV, metrics=["spend", "impressions", "clicks", "ctr"],
            page_size=1000, **shape),
        lambda d: d["page_info"]["total_number"],
    )
check(
    "report audience age x gender",
    lambda: reporting.report_integrated_get(
        "AUDIENCE", TOKEN, advertiser_id=ADV, data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "age", "gender"], metrics=["spend", "impressions"],
        start_date="2025-03-01", end_date="2025-03-07", page_size=1000),
    lambda d: d["page_info"]["total_number"],
)
task = check(
    "report/task/create",
    lambda: reporting.report_task_create(
        TOKEN,
        body=ReportTaskCreateBody(
            advertiser_id=ADV, report_type="BASIC", data_level="AUCTION_CAMPAIGN",
            dimensions=["campaign_id", "stat_time_day"], metrics=["spend", "clicks"],
            start_date="2025-01-01", end_date="2025-03-31", enable_report_title_translation=False),
    ),
    lambda d: 1,
)
if task:
    check(
        "report/task/check",
        lambda: reporting.report_task_check(task["task_id"], ADV, TOKEN),
        lambda d: d["status"],
    )

sys.exit(1 if FAILED else 0)
