package web

import (
	"html"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/microcosm-cc/bluemonday"
)

type Page struct {
	Title   string
	Body    template.HTML
	OnClick template.JS
	Link    template.URL
}

var page = template.Must(template.New("page").Parse(`<h1>{{.Title}}</h1>{{.Body}}`))

func positives(w http.ResponseWriter, r *http.Request) {
	comment := r.FormValue("comment")
	// ruleid: go-template-html-from-request
	body := template.HTML("<p>" + comment + "</p>")
	p := Page{
		Body: body,
		// ruleid: go-template-html-from-request
		OnClick: template.JS(r.URL.Query().Get("cb")),
	}
	page.Execute(w, p)
}

func ginPositive(c *gin.Context) {
	next := c.Query("next")
	// ruleid: go-template-html-from-request
	c.HTML(http.StatusOK, "redirect.html", gin.H{"next": template.URL(next)})
}

func negatives(w http.ResponseWriter, r *http.Request, policy *bluemonday.Policy, rendered string) {
	comment := r.FormValue("comment")
	p := Page{
		// ok: go-template-html-from-request
		Title: comment,
		// ok: go-template-html-from-request
		Body: template.HTML(policy.Sanitize(comment)),
		// ok: go-template-html-from-request
		OnClick: template.JS("window.history.back()"),
		// ok: go-template-html-from-request
		Link: template.URL("/" + html.EscapeString(comment)),
	}
	page.Execute(w, p)
	// ok: go-template-html-from-request
	_ = template.HTML(rendered)
}
