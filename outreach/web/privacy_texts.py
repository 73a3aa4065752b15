"""The privacy notice's words in pl, en and uk (GDPR art. 13): who processes residents' data, why,
what is held and how long, the rights and whom to write to. `{…}` are filled from the settings."""

from __future__ import annotations

# Each language: the title, then (heading, paragraphs) sections; the page escapes every value.
NOTICE: dict[str, tuple[str, list[tuple[str, list[str]]]]] = {
    "pl": (
        "Jak przetwarzamy Twoje dane",
        [
            (
                "Kto przetwarza Twoje dane",
                ["Administratorem danych jest {controller}. {controller_contact}"],
            ),
            (
                "Po co",
                [
                    "Zadajemy mieszkańcom krótkie pytania w konsultacjach spraw miasta i dzielnic, a odpowiedzi"
                    " liczymy w wynikach, które pokazujemy tylko zbiorczo albo pod pseudonimem, nigdy z numerem"
                    " telefonu czy adresem.",
                    "Podstawą jest Twoja zgoda (art. 6 ust. 1 lit. a RODO), którą możesz wycofać w każdej chwili,"
                    " odpisując STOP albo klikając „Wypisz się” w mailu. Nie zapisujemy osób poniżej 16 lat.",
                ],
            ),
            (
                "Jakie dane i jak długo",
                [
                    "Numer telefonu, identyfikator czatu lub adres e-mail; język, dzielnicę i przedział wieku,"
                    " jeśli je podano; Twoje odpowiedzi i wiadomości, które wymieniliśmy; historię Twoich zgód"
                    " i rezygnacji.",
                    "Treść wiadomości usuwamy po okresie przechowywania ustalonym przez administratora; dane"
                    " usuwamy na Twoje żądanie, a odpowiedzi zostają wtedy w wynikach bez żadnego związku z Tobą.",
                ],
            ),
            (
                "Twoje prawa",
                [
                    "Masz prawo dostępu do swoich danych, ich sprostowania, usunięcia, ograniczenia przetwarzania,"
                    " przeniesienia i sprzeciwu, a także wycofania zgody bez wpływu na to, co było wcześniej.",
                    "Możesz złożyć skargę do Prezesa Urzędu Ochrony Danych Osobowych (ul. Stawki 2,"
                    " 00-193 Warszawa, uodo.gov.pl).",
                ],
            ),
            ("Do kogo pisać", ["Inspektor ochrony danych: {dpo_contact}"]),
        ],
    ),
    "en": (
        "How we process your data",
        [
            ("Who processes your data", ["The controller of your data is {controller}. {controller_contact}"]),
            (
                "Why",
                [
                    "We ask residents short questions in consultations about the city and its districts, and"
                    " count the answers in results shown only in aggregate or under a pseudonym, never with a"
                    " phone number or an address.",
                    "The basis is your consent (GDPR art. 6(1)(a)), which you may withdraw at any time by"
                    " replying STOP or clicking “Unsubscribe” in an email. We do not enrol anyone under 16.",
                ],
            ),
            (
                "What we hold and for how long",
                [
                    "Your phone number, chat id or email address; your language, district and age band if"
                    " given; your answers and the messages we exchanged; the history of your consents and"
                    " opt-outs.",
                    "Message contents are deleted after the retention period the controller sets; your data is"
                    " erased on request, and your answers then stay in the results with no link to you.",
                ],
            ),
            (
                "Your rights",
                [
                    "You have the right of access to your data, to rectification, erasure, restriction of"
                    " processing, portability and to object, and to withdraw your consent without affecting"
                    " what was done before.",
                    "You may complain to the President of the Personal Data Protection Office (Prezes UODO,"
                    " ul. Stawki 2, 00-193 Warszawa, uodo.gov.pl).",
                ],
            ),
            ("Whom to write to", ["Data protection officer: {dpo_contact}"]),
        ],
    ),
    "uk": (
        "Як ми обробляємо ваші дані",
        [
            ("Хто обробляє ваші дані", ["Адміністратор ваших даних — {controller}. {controller_contact}"]),
            (
                "Навіщо",
                [
                    "Ми ставимо мешканцям короткі запитання в консультаціях щодо міста та його районів і"
                    " враховуємо відповіді в результатах, які показуємо лише узагальнено або під псевдонімом,"
                    " ніколи з номером телефону чи адресою.",
                    "Підставою є ваша згода (ст. 6(1)(a) GDPR), яку ви можете відкликати будь-коли, надіславши"
                    " STOP або натиснувши «Відписатися» в листі. Ми не записуємо осіб, молодших за 16 років.",
                ],
            ),
            (
                "Які дані і як довго",
                [
                    "Номер телефону, ідентифікатор чату або адреса e-mail; мова, район і вікова група, якщо"
                    " ви їх вказали; ваші відповіді та повідомлення, якими ми обмінялися; історія ваших згод"
                    " і відмов.",
                    "Зміст повідомлень видаляємо після строку зберігання, встановленого адміністратором; дані"
                    " видаляємо на вашу вимогу, а відповіді тоді залишаються в результатах без зв'язку з вами.",
                ],
            ),
            (
                "Ваші права",
                [
                    "Ви маєте право на доступ до своїх даних, їх виправлення, видалення, обмеження обробки,"
                    " перенесення і заперечення, а також на відкликання згоди без впливу на те, що було раніше.",
                    "Ви можете подати скаргу Голові Управління захисту персональних даних Польщі (Prezes UODO,"
                    " ul. Stawki 2, 00-193 Warszawa, uodo.gov.pl).",
                ],
            ),
            ("Кому писати", ["Інспектор із захисту даних: {dpo_contact}"]),
        ],
    ),
}

# When a contact is not set: say where else to ask, rather than leave a blank.
NOT_SET = {
    "pl": "napisz do administratora na adres podany w wiadomości",
    "en": "write to the controller at the address the messages come from",
    "uk": "напишіть адміністратору на адресу, з якої надходять повідомлення",
}
LANGUAGE_NAMES = {"pl": "Polski", "en": "English", "uk": "Українська"}
# The accessible name of the links to the other languages, read out in the page's own language.
LANGUAGE_NAV = {"pl": "Wersje językowe", "en": "Languages", "uk": "Мовні версії"}
