import React from "react";
import DOMPurify from "dompurify";

export function Comment({ comment }) {
  // ruleid: js-react-dangerously-set-inner-html
  return <div className="comment" dangerouslySetInnerHTML={{ __html: comment.html }} />;
}

export function Preview({ markup }) {
  // ruleid: js-react-dangerously-set-inner-html
  const view = <section dangerouslySetInnerHTML={markup}></section>;
  // ruleid: js-react-dangerously-set-inner-html
  const legacy = React.createElement("div", { id: "p", dangerouslySetInnerHTML: { __html: markup } });
  return [view, legacy];
}

export function Safe({ comment }) {
  // ok: js-react-dangerously-set-inner-html
  const a = <div dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(comment.html) }} />;
  // ok: js-react-dangerously-set-inner-html
  const b = <hr dangerouslySetInnerHTML={{ __html: "<span>&nbsp;</span>" }} />;
  // ok: js-react-dangerously-set-inner-html
  const c = <p className="comment">{comment.text}</p>;
  return [a, b, c];
}
