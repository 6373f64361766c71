// case-audit front-end entry point.
// Loaded with: <script type="module" src="/static/js/app.js"></script>
//
// GOV.UK Frontend's page template adds these body classes with an inline
// <script>. Our Content-Security-Policy forbids inline scripts, so do it here.
// A browser that runs this ES module supports GOV.UK Frontend's JavaScript,
// which is exactly what the template's `'noModule' in ...` test checks.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')

// Wide tables scroll sideways inside their own box, so a narrow screen never scrolls the
// whole page sideways. While a table is wider than its box, the box is a labelled region
// that takes keyboard focus (so arrow keys scroll it); when it fits, it is a plain box and
// adds no stop to the Tab order.
let captions = 0

function regionName (table, box) {
  const caption = table.querySelector(':scope > caption')
  if (caption) {
    if (!caption.id) caption.id = `app-table-caption-${++captions}`
    box.setAttribute('aria-labelledby', caption.id)
    return
  }
  let name = table.getAttribute('aria-label')
  for (let el = box.previousElementSibling; !name && el; el = el.previousElementSibling) {
    if (/^H[1-6]$/.test(el.tagName)) name = el.textContent.trim()
  }
  box.setAttribute('aria-label', name || 'Table')
}

function fitTable (box) {
  const wide = box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight
  // A caption is as wide as its table: held to the box's width (the CSS reads this), it
  // wraps where it can be read instead of running off under the scroll.
  box.style.setProperty('--app-table-box', `${box.clientWidth}px`)
  if (wide === box.hasAttribute('tabindex')) return
  if (wide) {
    box.setAttribute('role', 'region')
    box.setAttribute('tabindex', '0')
    regionName(box.querySelector('table'), box)
  } else {
    for (const name of ['role', 'tabindex', 'aria-label', 'aria-labelledby']) box.removeAttribute(name)
  }
}

function scrollingTables () {
  const boxes = []
  for (const table of document.querySelectorAll('main table')) {
    if (table.parentElement.classList.contains('app-table-scroll')) continue
    const box = document.createElement('div')
    box.className = 'app-table-scroll'
    table.before(box)
    box.append(table)
    boxes.push(box)
  }
  boxes.forEach(fitTable)
  if ('ResizeObserver' in window) {
    // The box resizes with the window; the table, when its content changes.
    const observer = new ResizeObserver((entries) => entries.forEach((entry) => {
      fitTable(entry.target.closest('.app-table-scroll'))
    }))
    boxes.forEach((box) => { observer.observe(box); observer.observe(box.firstElementChild) })
  }
}

// A form posts to the page's address without its #fragment: otherwise the page that comes
// back (an error summary, or a redirect that inherits the fragment) scrolls to where the
// person last jumped, away from the result they need to see.
// (getAttribute, not form.action: a field named "action" hides that property.)
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement) || (form.getAttribute('method') || '').toLowerCase() !== 'post') return
  const action = form.getAttribute('action')
  if (action === null || action === '' || action.includes('#')) {
    const target = new URL(action || '', window.location.href)
    target.hash = ''
    form.setAttribute('action', target.href)
  }
})

scrollingTables()
initAll()
