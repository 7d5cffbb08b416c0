// @ts-check
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules",
      ".wrangler",
      ".bench",
      "worker-configuration.d.ts",
      "coverage",
      "console/ui/vendor",
      ".screenshots",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // zod's `z` (and default) export is a namespace object holding every locale: importing it puts
      // ~360 KiB of translations nobody uses into the bundle. `import * as z from "zod"` lets esbuild keep
      // only what is used (`npm run size`). Type-only imports cost nothing.
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z'][importKind!='type'], ImportDeclaration[source.value='zod'][importKind!='type'] > ImportDefaultSpecifier",
          message:
            'Use `import * as z from "zod"`: the `z` export drags all of zod\'s locales into the bundle.',
        },
      ],
    },
  },
);
