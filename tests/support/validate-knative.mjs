// Validates Knative Services against the schema of Knative Serving's CRD, as
// @kubernetes-models/knative (deploy/lint/package.json, in .tools/npm) carries it.
// Usage: node validate-knative.mjs <node_modules folder> < resources.json (a JSON array).
// Prints one line per invalid Service and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const models = join(process.argv[2], "@kubernetes-models/knative/serving.knative.dev/v1/Service.js");
const { Service } = await import(pathToFileURL(models).href);
let failed = false;
for (const resource of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    new Service(resource).validate();
  } catch (error) {
    failed = true;
    console.log(`${resource.metadata.name}: ${error.message}`);
  }
}
process.exit(failed ? 1 : 0);
