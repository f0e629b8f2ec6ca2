/* test_uztext.c - the Uzbek/Russian text module (engine/text/uztext.h) on real words and
 * sentences: the scoring normaliser (every apostrophe variant, casing, punctuation, ё, the real
 * USC transcripts of ../shared/data/uz/usc), the Uzbek Latin canonical form, the Cyrillic <->
 * Latin transliterator (one test per rule family, round trips, the documented limits), script
 * detection and the Uzbek-vs-Russian cues and score, and bad input (NULL, invalid UTF-8). */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "text/uz_internal.h"
#include "text/uztext.h"

/* The apostrophe variants of the issue: ' ` ´ ‘ ’ ʻ ʼ ʹ ′ ˈ */
static const char *const apostrophes[] = {"'", "`", "\xC2\xB4", "\xE2\x80\x98", "\xE2\x80\x99",
                                          "\xCA\xBB", "\xCA\xBC", "\xCA\xB9", "\xE2\x80\xB2", "\xCB\x88"};
#define N_APOS (sizeof apostrophes / sizeof apostrophes[0])

static void check_str(char *got, const char *want, const char *fn, const char *in) {
    cr_assert_not_null(got, "%s(\"%s\") returned NULL", fn, in);
    cr_expect_str_eq(got, want, "%s(\"%s\") = \"%s\", want \"%s\"", fn, in, got, want);
    free(got);
}
#define NORM(in, lang, want) check_str(uzw_text_normalize(in, lang), want, "normalize", in)
#define CANON(in, want) check_str(uzw_uz_latin_canonical(in), want, "canonical", in)
#define C2L(in, want) check_str(uzw_uz_cyr_to_lat(in), want, "cyr_to_lat", in)
#define L2C(in, want) check_str(uzw_uz_lat_to_cyr(in), want, "lat_to_cyr", in)

/* Replace every "'" of pattern with apostrophe variant v. */
static void with_apostrophe(const char *pattern, const char *v, char *out, size_t cap) {
    size_t k = 0, vl = strlen(v);
    for (const char *p = pattern; *p && k + vl + 1 < cap; p++) {
        if (*p == '\'') memcpy(out + k, v, vl), k += vl;
        else out[k++] = *p;
    }
    out[k] = 0;
}

/* The USC transcripts (lower-case Latin, ASCII apostrophes, no punctuation); count in *n. */
static char **load_usc(size_t *n) {
    glob_t g;
    *n = 0;
    cr_assert_eq(glob(tu_shared("data/uz/usc/*.txt"), 0, NULL, &g), 0, "no USC transcripts under %s",
                 tu_shared("data/uz/usc"));
    char **txt = calloc(g.gl_pathc, sizeof *txt);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len;
        txt[i] = (char *)tu_read_file(g.gl_pathv[i], &len);
        cr_assert_not_null(txt[i], "%s", g.gl_pathv[i]);
        while (len && (txt[i][len - 1] == '\n' || txt[i][len - 1] == '\r')) txt[i][--len] = 0;
    }
    *n = g.gl_pathc;
    globfree(&g);
    return txt;
}

static void free_usc(char **txt, size_t n) {
    for (size_t i = 0; i < n; i++) free(txt[i]);
    free(txt);
}

/* ================================================================ scoring normaliser */

Test(normalize, every_apostrophe_variant_folds_to_ascii) {
    char in[256];
    for (size_t v = 0; v < N_APOS; v++) {
        with_apostrophe("bo'lganlarga to'lanishi", apostrophes[v], in, sizeof in);
        NORM(in, "uz", "bo'lganlarga to'lanishi");
        NORM(in, NULL, "bo'lganlarga to'lanishi");
        with_apostrophe("Ma'lumot G'afur G'ulom", apostrophes[v], in, sizeof in);
        NORM(in, "uz", "ma'lumot g'afur g'ulom");
    }
}

Test(normalize, real_uzbek_spellings) {
    NORM("o\xE2\x80\x98zbekiston", "uz", "o'zbekiston");      /* o‘zbekiston */
    NORM("G\xCA\xBB" "afur G\xCA\xBB" "ulom", "uz", "g'afur g'ulom");  /* Gʻafur Gʻulom */
    NORM("ma\xE2\x80\x99lumot", "uz", "ma'lumot");             /* ma’lumot */
    NORM("qo'polligim", "uz", "qo'polligim");
    NORM("O\xCA\xBBZBEKISTON", "uz", "o'zbekiston");
    /* moʻʼjiza (o + okina + tutuq): the run of two becomes one ' */
    NORM("mo\xCA\xBB\xCA\xBCjiza", "uz", "mo'jiza");
    NORM("mo''jiza", "uz", "mo'jiza");
}

Test(normalize, usc_transcripts_are_fixed_points_and_display_forms_map_back) {
    size_t n;
    char **ref = load_usc(&n);
    cr_assert_geq(n, 5);
    for (size_t i = 0; i < n; i++) {
        NORM(ref[i], "uz", ref[i]); /* already lower-case, ASCII apostrophes, no punctuation */
        /* the same sentence as a display text: canonical apostrophes, a capital, punctuation */
        char *canon = uzw_uz_latin_canonical(ref[i]);
        cr_assert_not_null(canon);
        char display[1024];
        snprintf(display, sizeof display, "\xC2\xAB%c%s.\xC2\xBB \xE2\x80\x94", canon[0] - 32, canon + 1);
        free(canon);
        NORM(display, "uz", ref[i]);
    }
    free_usc(ref, n);
}

Test(normalize, lower_cases_latin_cyrillic_uzbek_and_turkic_letters) {
    NORM("\xD0\x8E\xD0\x97\xD0\x91\xD0\x95\xD0\x9A\xD0\x98\xD0\xA1\xD0\xA2\xD0\x9E\xD0\x9D", NULL,
         "ўзбекистон"); /* ЎЗБЕКИСТОН */
    NORM("ҚИШ ҒАЛАБА ҲАЁТ Ўқитувчи", NULL, "қиш ғалаба ҳаёт ўқитувчи");
    NORM("ВВЕДИТЕ ПАРОЛЬ", "ru", "введите пароль");
    NORM("İSTANBUL ŞİMDİ ÇOK GÜZEL", NULL, "istanbul şimdi çok güzel");
    NORM("ĞÖÜƏ Iğdır", NULL, "ğöüə iğdır"); /* dotless ı stays: it is a letter of its own */
    NORM("Şu orunda o da mimasız, hayvanızız desem", "uz", "şu orunda o da mimasız hayvanızız desem");
}

Test(normalize, punctuation_and_symbols_separate_words) {
    NORM("\xC2\xABSalom\xC2\xBB, dedi u \xE2\x80\x94 \xE2\x80\x9CYaxshimisiz?\xE2\x80\x9D\xE2\x80\xA6", "uz",
         "salom dedi u yaxshimisiz"); /* «Salom», dedi u — “Yaxshimisiz?”… */
    NORM("\xE2\x80\x9E\xD0\x9D\xD0\xB5\xD1\x82!\xE2\x80\x9C \xE2\x80\x93 \xD1\x81\xD0\xBA\xD0\xB0\xD0\xB7\xD0\xB0\xD0\xBB "
         "\xD0\xBE\xD0\xBD.",
         "ru", "нет сказал он"); /* „Нет!“ – сказал он. */
    NORM("o'zbek-rus lug'ati", "uz", "o'zbek rus lug'ati"); /* hyphen inside a word -> space */
    NORM("2024-yil, 3.5 kg; 100% (taxminan)!", NULL, "2024 yil 3 5 kg 100 taxminan");
    NORM("\xE2\x99\xAA Musiqa \xE2\x99\xAA", NULL, "musiqa"); /* ♪ */
    NORM("Ha... ha?!", NULL, "ha ha");
}

Test(normalize, quotes_are_dropped_word_final_okina_kept_for_uz) {
    NORM("'Salom' dedi", "uz", "salom dedi");
    NORM("\xE2\x80\x98Yo\xE2\x80\x98q\xE2\x80\x99, dedi", "uz", "yo'q dedi"); /* ‘Yo‘q’, dedi */
    NORM("tog' bog\xE2\x80\x98 sog\xCA\xBB", "uz", "tog' bog' sog'");
    NORM("tog' bog\xE2\x80\x98 sog\xCA\xBB", NULL, "tog bog sog"); /* generic: edge apostrophes drop */
    NORM("mavqe' 5' 10'", "uz", "mavqe 5 10");                      /* tutuq at the edge, primes */
}

Test(normalize, yo_folds_for_russian_only) {
    NORM("Ёлка ещё", "ru", "елка еще");
    NORM("Ёлка ещё", NULL, "ёлка ещё");
    NORM("Ёз келди", "uz", "ёз келди");
}

Test(normalize, white_space_and_invisible_characters) {
    NORM("  salom \t\n dunyo  ", NULL, "salom dunyo");
    NORM("salom\xC2\xA0" "dunyo\xE2\x80\x83!", NULL, "salom dunyo"); /* nbsp, em space */
    NORM("sa\xC2\xADlom\xE2\x80\x8B", NULL, "salom");               /* soft hyphen, zero-width space */
    NORM("", NULL, "");
    NORM(" ,.!? ", NULL, "");
}

Test(normalize, decomposed_letters_compose) {
    NORM("\xD0\xB8\xCC\x86\xD0\xB8\xD0\xBB", NULL, "йил");      /* и + breve */
    NORM("\xD1\x83\xCC\x86\xD0\xB7", NULL, "ўз");               /* у + breve */
    NORM("\xD0\x95\xCC\x88\xD0\xBB\xD0\xBA\xD0\xB0", "ru", "елка"); /* Е + diaeresis, then ё -> е */
    NORM("go\xCC\x88z", NULL, "göz");
}

Test(normalize, null_and_invalid_utf8) {
    cr_expect_null(uzw_text_normalize(NULL, "uz"));
    NORM("Ab\xFF\xFE Cd", NULL, "ab\xFF\xFE cd"); /* invalid bytes pass through */
    NORM("x\xC3", NULL, "x\xC3");                 /* truncated sequence */
    NORM("\xED\xA0\x80", NULL, "\xED\xA0\x80");   /* encoded surrogate */
    NORM("salom", "xx", "salom");                 /* unknown language: generic rules */
}

/* ================================================================ canonical Latin */

Test(canonical, okina_and_tutuq_from_every_variant) {
    char in[128];
    for (size_t v = 0; v < N_APOS; v++) {
        with_apostrophe("O'zbekiston, g'alaba, ma'no, Is'hoq, mo''jiza, mavqe'", apostrophes[v], in, sizeof in);
        CANON(in, "O\xCA\xBBzbekiston, g\xCA\xBB" "alaba, ma\xCA\xBCno, Is\xCA\xBChoq, mo\xCA\xBB\xCA\xBCjiza, mavqe\xCA\xBC");
    }
    CANON("O'ZBEKISTON G'AFUR G'ULOM", "O\xCA\xBBZBEKISTON G\xCA\xBB" "AFUR G\xCA\xBBULOM");
}

Test(canonical, quotes_cyrillic_digits_and_bytes_unchanged) {
    CANON("'Salom' dedi", "'Salom' dedi");
    CANON("\xE2\x80\x98Yo'q\xE2\x80\x99", "\xE2\x80\x98Yo\xCA\xBBq\xE2\x80\x99"); /* ‘Yo'q’ */
    CANON("5' 10\"", "5' 10\"");
    CANON("\xD0\xBC'\xD1\x8F\xD1\x81\xD0\xBE", "\xD0\xBC'\xD1\x8F\xD1\x81\xD0\xBE"); /* м'ясо */
    CANON("bo'l\xFF", "bo\xCA\xBBl\xFF");
    CANON("", "");
    cr_expect_null(uzw_uz_latin_canonical(NULL));
}

/* ================================================================ Cyrillic -> Latin, per rule */

Test(cyr_to_lat, plain_letters) {
    C2L("мактаб", "maktab");
    C2L("чироқ", "chiroq");
    C2L("шаҳар", "shahar");
    C2L("жуда", "juda");
    C2L("йил", "yil");
    C2L("хат", "xat");
    C2L("қиш", "qish");
    C2L("эди", "edi");
    C2L("фарзанд", "farzand");
    C2L("вилоят", "viloyat");
}

Test(cyr_to_lat, ye_at_word_start_and_after_vowels) {
    C2L("Ер", "Yer");
    C2L("ер", "yer");
    C2L("поезд", "poyezd");
    C2L("қаерда", "qayerda");
    C2L("келди", "keldi");
    C2L("Тошкент", "Toshkent");
    C2L("объект", "obyekt");   /* after ъ */
    C2L("премьер", "premyer"); /* after ь */
    C2L("ер-сув", "yer-suv");
}

Test(cyr_to_lat, ts_after_vowel_s_elsewhere) {
    C2L("цирк", "sirk");
    C2L("милиция", "militsiya");
    C2L("концерт", "konsert");
    C2L("станция", "stansiya");
    C2L("Цех", "Sex");
}

Test(cyr_to_lat, yo_yu_ya) {
    C2L("ёз", "yoz");
    C2L("юлдуз", "yulduz");
    C2L("яхши", "yaxshi");
    C2L("ҳаёт", "hayot");
    C2L("дарё", "daryo");
    C2L("бюро", "byuro");
}

Test(cyr_to_lat, hard_sign_is_tutuq_soft_sign_dropped) {
    C2L("маъно", "ma\xCA\xBCno");
    C2L("санъат", "san\xCA\xBC" "at");
    C2L("мўъжиза", "mo\xCA\xBB\xCA\xBCjiza");
    C2L("маъюс", "ma\xCA\xBCyus");
    C2L("съезд", "syezd"); /* Russian separating sign before е */
    C2L("апрель", "aprel");
    C2L("батальон", "batalon");
}

Test(cyr_to_lat, uzbek_letters_o_g_q_h) {
    C2L("Ўзбекистон", "O\xCA\xBBzbekiston");
    C2L("ғалаба", "g\xCA\xBB" "alaba");
    C2L("Ғафур Ғулом", "G\xCA\xBB" "afur G\xCA\xBBulom");
    C2L("ўқитувчи", "o\xCA\xBBqituvchi");
    C2L("ёмғир", "yomg\xCA\xBBir");
    C2L("Исҳоқ", "Is\xCA\xBChoq"); /* сҳ -> sʼh, not sh */
    C2L("асҳоб", "as\xCA\xBChob");
}

Test(cyr_to_lat, capitals) {
    C2L("Шаҳар", "Shahar");
    C2L("ШАҲАР", "SHAHAR");
    C2L("ТОШ", "TOSH");
    C2L("Ш. Рашидов", "Sh. Rashidov");
    C2L("ЎЗБЕКИСТОН", "O\xCA\xBBZBEKISTON");
    C2L("Ғ", "G\xCA\xBB");
    C2L("ЁЗ", "YOZ");
    C2L("Я", "Ya");
    C2L("ЕР", "YER");
    C2L("ЦИРК", "SIRK");
    C2L("ИСҲОҚ", "IS\xCA\xBCHOQ");
}

Test(cyr_to_lat, russian_only_letters_and_passthrough) {
    C2L("борщ", "borshch");
    C2L("мы", "mi");
    C2L("Toshkent 2024-yil, 5%", "Toshkent 2024-yil, 5%");
    C2L("Тошкент\xFF 2024-йил", "Toshkent\xFF 2024-yil");
    C2L("", "");
    cr_expect_null(uzw_uz_cyr_to_lat(NULL));
}

Test(cyr_to_lat, sentences) {
    C2L("Ўзбекистон Республикаси пойтахти Тошкент шаҳри.", "O\xCA\xBBzbekiston Respublikasi poytaxti Toshkent shahri.");
    C2L("Бугун ҳаво яхши, ёмғир ёғмайди.", "Bugun havo yaxshi, yomg\xCA\xBBir yog\xCA\xBBmaydi.");
}

/* ================================================================ Latin -> Cyrillic, per rule */

Test(lat_to_cyr, digraphs_sh_ch) {
    L2C("shahar", "шаҳар");
    L2C("chiroq", "чироқ");
    L2C("ishchi", "ишчи"); /* sh + ch, not щ */
    L2C("o'quvchi", "ўқувчи");
}

Test(lat_to_cyr, o_and_g_with_every_apostrophe) {
    char in[64];
    for (size_t v = 0; v < N_APOS; v++) {
        with_apostrophe("O'zbekiston g'alaba", apostrophes[v], in, sizeof in);
        L2C(in, "Ўзбекистон ғалаба");
    }
}

Test(lat_to_cyr, y_digraphs) {
    L2C("yaxshi", "яхши");
    L2C("yulduz", "юлдуз");
    L2C("yer", "ер");
    L2C("poyezd", "поезд");
    L2C("yomg'ir", "ёмғир");
    L2C("hayot", "ҳаёт");
    L2C("dunyo", "дунё");       /* after a consonant too */
    L2C("kelyapti", "келяпти"); /* after a consonant too */
    L2C("yo'q", "йўқ");         /* yoʻ is й + ў */
    L2C("qiyalik", "қиялик");
    L2C("ayyor", "айёр");
}

Test(lat_to_cyr, e_at_word_start_and_after_vowel) {
    L2C("ekan", "экан");
    L2C("Emas", "Эмас");
    L2C("keldi", "келди");
    L2C("poeziya", "поэзия");
    L2C("duet", "дуэт");
}

Test(lat_to_cyr, tutuq_and_s_h) {
    L2C("ma\xCA\xBCno", "маъно");
    L2C("ma'no", "маъно");
    L2C("san\xE2\x80\x99" "at", "санъат");
    L2C("mo\xCA\xBB\xCA\xBCjiza", "мўъжиза");
    L2C("Is\xCA\xBChoq", "Исҳоқ");
    L2C("Is'hoq", "Исҳоқ");
}

Test(lat_to_cyr, ts_only_in_tsiya) {
    L2C("militsiya", "милиция");
    L2C("operatsiyaga", "операцияга");
    L2C("tutsa", "тутса");
    L2C("otsiz", "отсиз");
}

Test(lat_to_cyr, capitals_quotes_and_passthrough) {
    L2C("SHAHAR", "ШАҲАР");
    L2C("Shahar", "Шаҳар");
    L2C("O\xCA\xBBZBEKISTON", "ЎЗБЕКИСТОН");
    L2C("G\xCA\xBB" "afur G\xCA\xBBulom", "Ғафур Ғулом");
    L2C("YO'Q", "ЙЎҚ");
    L2C("'salom', dedi", "'салом', деди");
    L2C("Тошкент 2024", "Тошкент 2024");
    L2C("xat\xFF", "хат\xFF");
    L2C("şu", "şу"); /* Turkish letters are not Uzbek Latin: copied */
    L2C("", "");
    cr_expect_null(uzw_uz_lat_to_cyr(NULL));
}

Test(lat_to_cyr, documented_limits) {
    /* These do not come back (uz_translit.c lists them); the test pins the documented behaviour. */
    L2C("sirk", "сирк");     /* цирк */
    L2C("rayon", "раён");    /* район */
    L2C("aprel", "апрел");   /* апрель */
    L2C("obyekt", "обект");  /* объект */
}

/* ================================================================ round trips */

Test(round_trip, cyrillic_words_and_sentences) {
    static const char *const cyr[][2] = {
        {"Ўзбекистон", "O\xCA\xBBzbekiston"}, {"Тошкент", "Toshkent"}, {"Самарқанд", "Samarqand"},
        {"ғалаба", "g\xCA\xBB" "alaba"},        {"ҳаёт", "hayot"},         {"шаҳар", "shahar"},
        {"чироқ", "chiroq"},                   {"яхши", "yaxshi"},        {"юлдуз", "yulduz"},
        {"ёмғир", "yomg\xCA\xBBir"},            {"мактаб", "maktab"},      {"маъно", "ma\xCA\xBCno"},
        {"поезд", "poyezd"},                   {"милиция", "militsiya"},  {"ер", "yer"},
        {"келди", "keldi"},                    {"ўқитувчи", "o\xCA\xBBqituvchi"}, {"қиш", "qish"},
        {"Ғафур Ғулом", "G\xCA\xBB" "afur G\xCA\xBBulom"}, {"Исҳоқ", "Is\xCA\xBChoq"},
        {"мўъжиза", "mo\xCA\xBB\xCA\xBCjiza"},   {"ШАҲАР", "SHAHAR"},       {"дарё", "daryo"},
        {"поэзия", "poeziya"},                 {"йўқ", "yo\xCA\xBBq"},
        {"Ўзбекистон Республикаси пойтахти Тошкент шаҳри.",
         "O\xCA\xBBzbekiston Respublikasi poytaxti Toshkent shahri."},
        {"Ўқитувчи болаларга китоб ўқиб берди, улар жуда хурсанд бўлишди.",
         "O\xCA\xBBqituvchi bolalarga kitob o\xCA\xBBqib berdi, ular juda xursand bo\xCA\xBBlishdi."},
    };
    for (size_t i = 0; i < sizeof cyr / sizeof cyr[0]; i++) {
        char *lat = uzw_uz_cyr_to_lat(cyr[i][0]);
        cr_assert_not_null(lat);
        cr_expect_str_eq(lat, cyr[i][1], "cyr_to_lat(%s) = %s, want %s", cyr[i][0], lat, cyr[i][1]);
        char *back = uzw_uz_lat_to_cyr(lat);
        cr_assert_not_null(back);
        cr_expect_str_eq(back, cyr[i][0], "lat_to_cyr(%s) = %s, want %s", lat, back, cyr[i][0]);
        free(lat);
        free(back);
    }
}

Test(round_trip, usc_transcripts_latin_cyrillic_latin) {
    size_t n;
    char **ref = load_usc(&n);
    for (size_t i = 0; i < n; i++) {
        char *canon = uzw_uz_latin_canonical(ref[i]);
        char *cyr = uzw_uz_lat_to_cyr(ref[i]);
        cr_assert(canon && cyr);
        cr_expect_eq(uzw_text_script(cyr), UZW_SCRIPT_CYRILLIC, "%s -> %s", ref[i], cyr);
        char *lat = uzw_uz_cyr_to_lat(cyr);
        cr_assert_not_null(lat);
        cr_expect_str_eq(lat, canon, "%s -> %s -> %s", ref[i], cyr, lat);
        NORM(lat, "uz", ref[i]);
        free(canon);
        free(cyr);
        free(lat);
    }
    free_usc(ref, n);
}

/* ================================================================ script and cues */

Test(script, detection) {
    cr_expect_eq(uzw_text_script("shu o'rinda"), UZW_SCRIPT_LATIN);
    cr_expect_eq(uzw_text_script("Тошкент шаҳри"), UZW_SCRIPT_CYRILLIC);
    cr_expect_eq(uzw_text_script("salom салом"), UZW_SCRIPT_MIXED);
    cr_expect_eq(uzw_text_script("Toshkent shahri va ikki metro x"), UZW_SCRIPT_LATIN);
    cr_expect_eq(uzw_text_script("Toshkentda metro ёқ"), UZW_SCRIPT_MIXED); /* 15 Latin of 17 letters: 88% */
    cr_expect_eq(uzw_text_script("123 ... !"), UZW_SCRIPT_NONE);
    cr_expect_eq(uzw_text_script(""), UZW_SCRIPT_NONE);
    cr_expect_eq(uzw_text_script(NULL), UZW_SCRIPT_NONE);
    cr_expect_eq(uzw_text_script("\xFF\xFE"), UZW_SCRIPT_NONE);
}

static uzw_uz_ru_cues cues_of(const char *s) {
    uzw_uz_ru_cues c;
    memset(&c, 0x5A, sizeof c); /* garbage: the function must fill every field */
    uzw_text_uz_ru_cues(s, &c);
    return c;
}

Test(cues, letter_counts) {
    uzw_uz_ru_cues c = cues_of("Ўзбекистон қишлоқ ғалаба ҳаёт");
    cr_expect_eq(c.n_uz_cyr, 5);
    cr_expect_eq(c.n_ru_cyr, 0);
    cr_expect_eq(c.n_cyrillic, 26);
    cr_expect_eq(c.n_latin, 0);
    cr_expect_eq(c.n_letters, 26);
    cr_expect_eq(c.n_words, 4);

    c = cues_of("Мы ещё здесь, Щука.");
    cr_expect_eq(c.n_ru_cyr, 3); /* ы щ Щ */
    cr_expect_eq(c.n_uz_cyr, 0);

    c = cues_of("o\xE2\x80\x98zbek g'alaba qish xat choy Is'hoq"); /* oʻ gʻ q sh x ch q (sʼh is not sh) */
    cr_expect_eq(c.n_uz_latin, 7);
    cr_expect_eq(c.n_turkic_latin, 0);
    cr_expect_eq(c.n_words, 6);

    c = cues_of("Şu orunda o da mimasız, hayvanızız desem");
    cr_expect_eq(c.n_turkic_latin, 4); /* Ş ı ı ı */
    cr_expect_eq(c.n_cyrillic, 0);
    cr_expect_eq(c.n_words, 7);
}

Test(cues, word_lists) {
    uzw_uz_ru_cues c = cues_of("Bu yerda bilan, Yo\xCA\xBBq! ҳам бу");
    cr_expect_eq(c.n_uz_words, 6);
    cr_expect_eq(c.n_ru_words, 0);
    c = cues_of("И в не на, что это Я");
    cr_expect_eq(c.n_ru_words, 7);
    cr_expect_eq(c.n_uz_words, 0);
    c = cues_of("у она то от"); /* words of both languages count for neither */
    cr_expect_eq(c.n_uz_words + c.n_ru_words, 0);
    cr_expect_eq(c.n_words, 4);
    c = cues_of("бор-да");          /* hyphenated: one word, no list hit */
    cr_expect_eq(c.n_words, 1);
    cr_expect_eq(c.n_uz_words + c.n_ru_words, 0);
}

Test(cues, word_lists_are_disjoint_lower_case_and_normalised) {
    size_t n_uz = 0, n_ru = 0;
    for (size_t i = 0; uzw_uz_common_words[i]; i++, n_uz++) {
        const char *w = uzw_uz_common_words[i];
        cr_expect(!uzw_word_in_list(uzw_ru_common_words, w), "%s is in both lists", w);
        char *norm = uzw_text_normalize(w, "uz");
        cr_expect_str_eq(norm, w, "uz list word %s is not in normalised form (%s)", w, norm);
        free(norm);
        for (size_t j = 0; j < i; j++) cr_expect_str_neq(uzw_uz_common_words[j], w, "duplicate %s", w);
    }
    for (size_t i = 0; uzw_ru_common_words[i]; i++, n_ru++) {
        const char *w = uzw_ru_common_words[i];
        cr_expect_eq(uzw_text_script(w), UZW_SCRIPT_CYRILLIC, "%s", w);
        char *norm = uzw_text_normalize(w, NULL);
        cr_expect_str_eq(norm, w, "ru list word %s is not in normalised form (%s)", w, norm);
        free(norm);
        for (size_t j = 0; j < i; j++) cr_expect_str_neq(uzw_ru_common_words[j], w, "duplicate %s", w);
    }
    cr_expect(n_uz >= 60 && n_ru >= 60, "list sizes %zu %zu", n_uz, n_ru);
}

Test(cues, null_and_empty) {
    uzw_uz_ru_cues c = cues_of(NULL), zero;
    memset(&zero, 0, sizeof zero);
    cr_expect_eq(memcmp(&c, &zero, sizeof c), 0);
    c = cues_of("");
    cr_expect_eq(memcmp(&c, &zero, sizeof c), 0);
    uzw_text_uz_ru_cues("salom", NULL); /* no crash */
    c = cues_of("123 456");
    cr_expect_eq(c.n_words, 0);
    cr_expect_eq(c.n_letters, 0);
}

static float logodds_of(const char *s) {
    uzw_uz_ru_cues c = cues_of(s);
    return uzw_text_uz_ru_logodds(&c);
}

Test(logodds, russian_is_negative) {
    static const char *const ru[] = {
        "Бедняга. Ребят, на его месте должен быть я.",
        "Введите пароль и нажмите решетку.",
        "Неверный пароль.",
        "Пожалуйста, оставьте сообщение после сигнала.",
        "Вы ввели неправильный номер.",
    };
    for (size_t i = 0; i < sizeof ru / sizeof ru[0]; i++) {
        float s = logodds_of(ru[i]);
        cr_expect_lt(s, -1.0f, "%s: %.2f", ru[i], (double)s);
        cr_expect_geq(s, -8.0f);
    }
    size_t len;
    char *txt = (char *)tu_read_file(tu_shared("data/ru/deepspeech_ru.txt"), &len);
    cr_assert_not_null(txt);
    cr_expect_lt(logodds_of(txt), -1.0f, "%s", txt);
    free(txt);
}

Test(logodds, uzbek_is_positive) {
    static const char *const uz[] = {
        "Ўзбекистон Республикаси пойтахти Тошкент шаҳри",
        "shu o'rinda odam emassiz hayvonsiz desam",
        "Şu orunda o da mimasız, hayvanızız desem", /* Whisper's Turkish spelling of Uzbek speech */
        "Бугун ҳаво яхши",
        "Мен бугун бозорга бордим.", /* Uzbek Cyrillic without ў қ ғ ҳ: the word list decides */
    };
    for (size_t i = 0; i < sizeof uz / sizeof uz[0]; i++) {
        float s = logodds_of(uz[i]);
        cr_expect_gt(s, 1.0f, "%s: %.2f", uz[i], (double)s);
        cr_expect_leq(s, 8.0f);
    }
    size_t n;
    char **ref = load_usc(&n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_gt(logodds_of(ref[i]), 1.0f, "%s", ref[i]);
        char *cyr = uzw_uz_lat_to_cyr(ref[i]); /* and the same sentence in Uzbek Cyrillic */
        cr_expect_gt(logodds_of(cyr), 1.0f, "%s", cyr);
        free(cyr);
    }
    free_usc(ref, n);
}

Test(logodds, neutral_bounded_and_monotone) {
    cr_expect_eq(logodds_of("123"), 0.0f);
    cr_expect_eq(logodds_of(""), 0.0f);
    cr_expect_eq(logodds_of("... !!! 42"), 0.0f);
    cr_expect_eq(uzw_text_uz_ru_logodds(NULL), 0.0f);
    /* long texts stay within the bound */
    char big[4096] = "";
    for (int i = 0; i < 60; i++) strcat(big, "ҳа қилди ўзи ғалаба ");
    cr_expect_eq(logodds_of(big), 8.0f);
    big[0] = 0;
    for (int i = 0; i < 60; i++) strcat(big, "мы это что ещё ");
    cr_expect_eq(logodds_of(big), -8.0f);
    /* one more piece of Russian evidence lowers the score, Uzbek evidence raises it */
    cr_expect_lt(logodds_of("дом был"), logodds_of("дом"));
    cr_expect_gt(logodds_of("дом ҳам"), logodds_of("дом"));
}
