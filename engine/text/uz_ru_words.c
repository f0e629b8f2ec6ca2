/* uz_ru_words.c - two short lists of very frequent Uzbek and Russian words, the word evidence of
 * uzw_text_uz_ru_cues. Chosen by hand from the commonest function words, pronouns, auxiliaries
 * and everyday verbs of each language. A word that is also an ordinary word of the other
 * language is left out of both lists, for example Cyrillic у (Uzbek "he/she", Russian "at"),
 * о, а, она (Uzbek "mother", Russian "she"), то (Uzbek "until"), от (Uzbek "horse, name"),
 * из (Uzbek "trace"), тут (Uzbek "mulberry"), нам (Uzbek "damp"), мой (Uzbek "oil"),
 * без (Uzbek "gland"), бор (Russian "pine wood"), нега (Russian "bliss"), та, до. Latin forms of
 * the Uzbek words use the ASCII apostrophe (the cues fold every variant to it). */
#include <string.h>

#include "text/uz_internal.h"

const char *const uzw_uz_common_words[] = {
    /* Latin */
    "va", "bu", "u", "men", "sen", "biz", "siz", "ular", "bilan", "uchun", "ham", "emas", "bor",
    "yo'q", "edi", "ekan", "kerak", "lekin", "juda", "bir", "ikki", "uch", "nima", "qanday", "shu",
    "yerda", "keyin", "endi", "hamma", "qilib", "bo'lib", "bo'ladi", "bo'lgan", "dedi", "deb",
    "mumkin", "yana", "hozir", "kim", "nega", "chunki", "agar", "yoki", "ammo", "balki", "har",
    "o'z", "hech", "narsa", "kun", "yil", "odam", "katta", "yaxshi", "rahmat", "salom", "ha",
    "mana", "shunday", "bunday", "uning", "mening", "menga", "unga", "buni", "shuni", "kabi",
    "haqida", "esa", "ko'p", "to'g'ri", "qildi", "keldi", "berdi", "oldi", "qiladi", "barcha",
    "faqat", "hali", "yangi", "ota", "bola", "tomonidan", "orqali", "ichida", "qayerda", "nimaga",
    "biroq", "albatta", "xo'p", "o'sha", "bizning", "sizning", "shunchaki", "bugun", "ertaga",
    /* Cyrillic */
    "ва", "бу", "мен", "сен", "биз", "сиз", "улар", "билан", "учун", "ҳам", "эмас", "йўқ", "эди",
    "экан", "керак", "лекин", "жуда", "бир", "икки", "уч", "нима", "қандай", "шу", "ерда", "кейин",
    "энди", "ҳамма", "қилиб", "бўлиб", "бўлади", "бўлган", "деди", "деб", "мумкин", "яна", "ҳозир",
    "ким", "чунки", "агар", "ёки", "аммо", "балки", "ҳар", "ўз", "ҳеч", "нарса", "кун", "йил",
    "одам", "катта", "яхши", "раҳмат", "салом", "ҳа", "мана", "шундай", "бундай", "унинг",
    "менинг", "менга", "унга", "буни", "шуни", "каби", "ҳақида", "эса", "кўп", "тўғри", "қилди",
    "келди", "берди", "олди", "қилади", "барча", "фақат", "ҳали", "янги", "ота", "бола",
    "томонидан", "орқали", "ичида", "қаерда", "нимага", "бироқ", "албатта", "хўп", "ўша",
    "бизнинг", "сизнинг", "шунчаки", "бугун", "эртага",
    NULL,
};

const char *const uzw_ru_common_words[] = {
    "и", "в", "не", "на", "что", "это", "как", "я", "он", "оно", "мы", "вы", "они", "но", "да",
    "нет", "так", "все", "всё", "был", "была", "было", "были", "если", "или", "уже", "для", "по",
    "за", "с", "к", "же", "бы", "ли", "ну", "вот", "только", "ещё", "еще", "можно", "нужно", "надо",
    "когда", "где", "там", "здесь", "потому", "чтобы", "очень", "его", "её", "ее", "их", "мне",
    "меня", "тебя", "тебе", "вас", "нас", "вам", "ему", "ей", "себя", "этот", "эта", "эти", "тот",
    "быть", "есть", "будет", "может", "сейчас", "тоже", "даже", "просто", "хорошо", "конечно",
    "спасибо", "пожалуйста", "почему", "который", "которые", "кто", "чем", "ничего", "сегодня",
    "также", "при", "про", "со", "во", "ты", "моя", "твой", "наш", "ваш", "него", "неё", "всех",
    NULL,
};

int uzw_word_in_list(const char *const *list, const char *word) {
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], word) == 0) return 1;
    return 0;
}
