function positives(el, comment, location) {
  // ruleid: js-inner-outer-html-assignment
  el.innerHTML = "<p>" + comment.body + "</p>";
  // ruleid: js-inner-outer-html-assignment
  document.getElementById("title").outerHTML = `<h1>${location.hash.slice(1)}</h1>`;
  // ruleid: js-inner-outer-html-assignment
  el.innerHTML += comment.html;
  // ruleid: js-inner-outer-html-assignment
  el.insertAdjacentHTML("beforeend", comment.html);
}

function negatives(el, comment, purify) {
  // ok: js-inner-outer-html-assignment
  el.innerHTML = "";
  // ok: js-inner-outer-html-assignment
  el.textContent = comment.body;
  // ok: js-inner-outer-html-assignment
  el.innerHTML = DOMPurify.sanitize(comment.html);
  // ok: js-inner-outer-html-assignment
  el.insertAdjacentHTML("afterbegin", purify.sanitize(comment.html));
  // ok: js-inner-outer-html-assignment
  el.innerHTML = `<span class="spinner"></span>`;
}
