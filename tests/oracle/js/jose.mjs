// Asks panva/jose (6.x) about every case: jwtVerify(token, key, {audience, issuer, algorithms,
// clockTolerance, currentDate}), its normal call.
import { importThere, run, versionOf } from './common.mjs';

const { jwtVerify, importSPKI } = await importThere('jose');
let rsaKey;

await run('jose', versionOf('jose'), async (item, input) => {
  // The key as jose's documentation has it: a secret as a Uint8Array, an RSA public key imported from its
  // SPKI PEM for RS256 (the key's own algorithm, whatever the API allows).
  const key =
    item.key === 'hs' ? new TextEncoder().encode(input.secret) : (rsaKey ??= await importSPKI(input.public_pem, 'RS256'));
  const options = {
    algorithms: item.algorithms,
    clockTolerance: item.leeway,
    currentDate: new Date(item.at_ms), // jose floors it to whole seconds itself (epoch() in jwt_claims_set)
  };
  if (item.audience !== null) {
    options.audience = item.audience.length === 1 ? item.audience[0] : item.audience;
  }
  if (item.issuer !== null) {
    options.issuer = item.issuer;
  }
  await jwtVerify(item.token, key, options);
});
