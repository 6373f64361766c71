// case-audit front-end entry point.
// Loaded with: <script type="module" src="/static/js/app.js"></script>
//
// GOV.UK Frontend's page template adds these body classes with an inline
// <script>. Our Content-Security-Policy forbids inline scripts, so do it here.
// A browser that runs this ES module supports GOV.UK Frontend's JavaScript,
// which is exactly what the template's `'noModule' in ...` test checks.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')

initAll()
