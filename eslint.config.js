// Type-aware lint for server and web; generated code is build output.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "gen/", "test-results/", "playwright-report/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.server.json", "./tsconfig.web.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
    },
  },
  {
    files: ["web/**/*.tsx", "web/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // We do not run the React Compiler; this rule only says it would skip memoizing.
      "react-hooks/incompatible-library": "off",
    },
  },
  // Web import direction: shared → features → app. A feature's files sit one
  // folder deep (`features/<x>/{api,components}/`), so `../../<y>/` is
  // another feature and `../../../` leaves features/.
  {
    files: ["web/features/**/*.ts", "web/features/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\.\\./\\.\\./(?!\\.\\.)[^/]+/(?!index$).+",
              message: "Import another feature only through its index.ts (../../<feature>/index).",
            },
            {
              regex: "(^|/)app(/|$)",
              message: "Features never import app/: move what both need to web/shared/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["web/shared/**/*.ts", "web/shared/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)(features|app)(/|$)",
              message: "web/shared/ imports neither features nor app: it is what they build on.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["web/app/**/*.ts", "web/app/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)features/[^/]+/(?!index$|preload$).+",
              message:
                "The app imports a feature only through its index.ts (features/<x>/index), or its preload.ts (only import() calls: head starts from the main bundle).",
            },
          ],
        },
      ],
    },
  },
  // One clock idiom: product code is handed its Clock (server/shared/clock);
  // a default to the system clock would hide a part that a test or the
  // gateway cannot drive. Entry points pass systemClock explicitly.
  {
    files: ["server/**/*.ts"],
    ignores: ["**/*.test.ts", "**/testing/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "LogicalExpression[operator='??'][right.name='systemClock']",
          message: "Take the clock as a required option; the entry point passes systemClock.",
        },
        {
          selector: "AssignmentPattern[right.name='systemClock']",
          message: "Take the clock as a required parameter; the entry point passes systemClock.",
        },
        {
          selector:
            "AssignmentPattern[right.type='MemberExpression'][right.object.name='Date'][right.property.name='now']",
          message: "Take a Clock (server/shared/clock) instead of a `now = Date.now` default.",
        },
      ],
    },
  },
  {
    // Plain-JS scripts and the bin shim are not part of a TS project.
    files: ["**/*.js", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node },
    },
  },
);
