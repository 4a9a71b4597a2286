const fs = require("fs");

module.exports = async () => {
  if (process.env.DP_EVALUATION_CACHE) fs.rmSync(process.env.DP_EVALUATION_CACHE, { recursive: true, force: true });
};
