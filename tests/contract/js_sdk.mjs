// The official JavaScript SDK (tiktok-business-api-sdk-official) against `tiktok-ads mock`.
// Run by tests/contract/run.sh --all with MOCK_URL and SDK_DIR (the installed package) set.
// Prints one line per check, `js-sdk<TAB>check<TAB>ok|failed<TAB>records or reason`, and exits
// 1 when any check failed.
const MOCK = process.env.MOCK_URL.replace(/\/+$/, '');
const sdk = await import(`${process.env.SDK_DIR}/src/index.js`);
const ADV = '7300000000000000001';
const failed = [];

async function control(path, body) {
  const answer = await fetch(MOCK + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return answer.json();
}

// The SDK's callbacks as promises: (error, data) → data, with TikTok's envelope checked by it.
function call(f) {
  return new Promise((resolve, reject) => f((error, data) => (error ? reject(error) : resolve(data))));
}

async function check(name, run, count) {
  try {
    const answer = await run();
    const data = answer.data || {};
    console.log(`js-sdk\t${name}\tok\t${count(data)}`);
    return data;
  } catch (e) {
    failed.push(name);
    console.log(`js-sdk\t${name}\tfailed\t${String(e.message || e).slice(0, 200)}`);
    return null;
  }
}

const app = await control('/_mock/app');
const { access_token: token } = await control('/_mock/tokens', {});
const client = new sdk.ApiClient();
client.basePath = MOCK;

const auth = new sdk.AuthenticationApi(client);
await check('oauth2/advertiser/get', () => call((cb) => auth.oauth2AdvertiserGet(app.app_id, app.app_secret, token, cb)), (d) => d.list.length);
const accounts = new sdk.AccountManagementApi(client);
await check('advertiser/info', () => call((cb) => accounts.advertiserInfo([ADV], token, {}, cb)), (d) => d.list.length);
const bc = new sdk.BCApi(client);
await check('bc/get', () => call((cb) => bc.bcGet(token, {}, cb)), (d) => d.list.length);
const campaigns = new sdk.CampaignCreationApi(client);
await check('campaign/get', () => call((cb) => campaigns.campaignGet(ADV, token, { page_size: 100 }, cb)), (d) => d.list.length);
await check('campaign/create', () => call((cb) => campaigns.campaignCreate(token, {
  body: { advertiser_id: ADV, campaign_name: 'JS SDK contract', objective_type: 'TRAFFIC', budget_mode: 'BUDGET_MODE_DAY', budget: 60 },
}, cb)), (d) => (d.campaign_id.length === 19 ? 1 : 0));
const adgroups = new sdk.AdgroupApi(client);
await check('adgroup/get', () => call((cb) => adgroups.adgroupGet(ADV, token, { page_size: 100 }, cb)), (d) => d.list.length);
const ads = new sdk.AdApi(client);
await check('ad/get', () => call((cb) => ads.adGet(ADV, token, { page_size: 100 }, cb)), (d) => d.list.length);
const reporting = new sdk.ReportingApi(client);
const shapes = {
  'report campaign x day': { data_level: 'AUCTION_CAMPAIGN', dimensions: ['campaign_id', 'stat_time_day'], start_date: '2025-03-01', end_date: '2025-03-30' },
  'report ad totals': { data_level: 'AUCTION_AD', dimensions: ['ad_id'], start_date: '2025-03-01', end_date: '2025-03-30' },
  'report lifetime': { data_level: 'AUCTION_CAMPAIGN', dimensions: ['campaign_id'], query_lifetime: true },
};
for (const [name, shape] of Object.entries(shapes)) {
  await check(name, () => call((cb) => reporting.reportIntegratedGet('BASIC', token, {
    advertiser_id: ADV, metrics: ['spend', 'impressions', 'clicks', 'ctr'], page_size: 1000, ...shape,
  }, cb)), (d) => d.page_info.total_number);
}
const task = await check('report/task/create', () => call((cb) => reporting.reportTaskCreate(token, {
  body: { advertiser_id: ADV, report_type: 'BASIC', data_level: 'AUCTION_CAMPAIGN', dimensions: ['campaign_id', 'stat_time_day'],
          metrics: ['spend'], start_date: '2025-01-01', end_date: '2025-03-31' },
}, cb)), () => 1);
if (task) {
  await check('report/task/check', () => call((cb) => reporting.reportTaskCheck(task.task_id, ADV, token, cb)), (d) => d.status);
}
process.exit(failed.length ? 1 : 0);
