package render

import (
	"strconv"
	"time"

	"golang.org/x/text/language"
)

// FormatTime writes a takeover's sign-in time as the language writes a
// date and time, in UTC (the notice cannot know the reader's time zone,
// so it says which it uses). x/text has no date formatting, so the
// languages the default set speaks are spelled out here, after CLDR's
// long date and short time; any other language gets ISO 8601.
func FormatTime(tag language.Tag, t time.Time) string {
	t = t.UTC()
	base, _ := tag.Base()
	d, y := strconv.Itoa(t.Day()), strconv.Itoa(t.Year())
	hm := t.Format("15:04")
	m := int(t.Month()) - 1
	switch base.String() {
	case "en":
		return t.Format("January 2, 2006, 3:04 PM") + " UTC"
	case "de":
		return d + ". " + monthsDE[m] + " " + y + " um " + hm + " UTC"
	case "es":
		return d + " de " + monthsES[m] + " de " + y + ", " + hm + " UTC"
	case "fr":
		return d + " " + monthsFR[m] + " " + y + " à " + hm + " UTC"
	case "it":
		return d + " " + monthsIT[m] + " " + y + " alle " + hm + " UTC"
	case "pt":
		return d + " de " + monthsPT[m] + " de " + y + " às " + hm + " UTC"
	case "ja", "zh":
		return y + "年" + strconv.Itoa(m+1) + "月" + d + "日 " + hm + " UTC"
	case "ar":
		return d + " " + monthsAR[m] + " " + y + "، " + hm + " UTC"
	}
	return t.Format("2006-01-02 15:04") + " UTC"
}

// LocationSeparator joins a city and a country.
func LocationSeparator(tag language.Tag) string {
	base, _ := tag.Base()
	switch base.String() {
	case "ar":
		return "، "
	case "ja", "zh":
		return "、"
	}
	return ", "
}

var (
	monthsDE = [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	monthsES = [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	monthsFR = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	monthsIT = [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
	monthsPT = [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"}
	monthsAR = [12]string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"}
)
