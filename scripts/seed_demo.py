"""A deterministic demo school: МБОУ "Берёзовская СОШ" with an autumn term already recorded.

Pure data, no database: `build_demo_school()` returns the whole directory, the parents, the
accounts and every journal's events; `write_csv_exports()` writes the spreadsheets a school
secretary keeps, in the form the server's CSV import reads.

Demo accounts: the login is the transliterated surname and initials (e.g. `sokolova.vp`, the
director); passwords depend on the role only:
    staff      demo-teacher
    parents    demo-parent
    students   demo-student   (accounts for grades 5–11 only)

Everything derives from `random.Random(seed)`, so a seed always gives the same school. The
events obey shared.rules: marks only for pupils present, corrections of earlier days carry a
reason, quarter marks come after the quarter's last lesson. As in a real school, grade 1 gets no
marks (безотметочное обучение), grade 2 gets marks from the second quarter, and grades 10–11 are
assessed by halves, so quarter-1 marks go to grades 3–9.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
import pathlib
import random
from collections import defaultdict
from dataclasses import dataclass

import msgspec

from shared.hlc import format_stamp
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    ClassTeacher,
    Directory,
    JournalEvent,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    Membership,
    Parent,
    ParentLink,
    Period,
    PeriodKind,
    PeriodMarkGiven,
    Retracted,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    TeachingAssignment,
    WorkKind,
    journal_id,
)


def _table(text: str) -> dict[str, str]:
    """`key: value` lines; an indented line continues the value above it."""
    result: dict[str, str] = {}
    key = ""
    for line in text.strip("\n").splitlines():
        if line.startswith(" "):
            result[key] += " " + line.strip()
        else:
            key, _, value = line.partition(":")
            result[key.strip()] = value.strip()
    return result


def _words(text: str) -> list[str]:
    return text.split()


D = dt.date
MSK = dt.timezone(dt.timedelta(hours=3))
DEFAULT_TODAY = D(2026, 11, 20)
PASSWORDS = {
    "staff": "demo-teacher",
    "parent": "demo-parent",
    "student": "demo-student",
    "district": "demo-district",
}
YEAR_ID = "2026-2027"
SCHOOL = School(
    id="berezovka", name='МБОУ "Берёзовская СОШ"', district="Красноборский муниципальный округ"
)
YEAR = SchoolYear(
    id=YEAR_ID, school_id=SCHOOL.id, name="2026/2027", starts=D(2026, 9, 1), ends=D(2027, 5, 31)
)
_PERIOD_ROWS = (  # id suffix, kind, number, name, starts, ends
    ("q1", PeriodKind.QUARTER, 1, "1 четверть", D(2026, 9, 1), D(2026, 10, 24)),
    ("q2", PeriodKind.QUARTER, 2, "2 четверть", D(2026, 11, 5), D(2026, 12, 28)),
    ("q3", PeriodKind.QUARTER, 3, "3 четверть", D(2027, 1, 12), D(2027, 3, 22)),
    ("q4", PeriodKind.QUARTER, 4, "4 четверть", D(2027, 4, 1), D(2027, 5, 31)),
    ("h1", PeriodKind.HALF, 1, "1 полугодие", D(2026, 9, 1), D(2026, 12, 28)),
    ("h2", PeriodKind.HALF, 2, "2 полугодие", D(2027, 1, 12), D(2027, 5, 31)),
    ("y", PeriodKind.YEAR, 1, "Учебный год", D(2026, 9, 1), D(2027, 5, 31)),
)
PERIODS = tuple(
    Period(id=f"{YEAR_ID}-{x}", year_id=YEAR_ID, kind=k, number=n, name=name, starts=s, ends=e)
    for x, k, n, name, s, e in _PERIOD_ROWS
)
Q1 = PERIODS[0]
HOLIDAYS = (  # каникулы and public holidays falling on weekdays
    (D(2026, 10, 25), D(2026, 11, 4)),
    (D(2026, 12, 29), D(2027, 1, 11)),
    (D(2027, 3, 23), D(2027, 3, 31)),
    *((d, d) for d in (D(2027, 2, 23), D(2027, 3, 8), D(2027, 5, 3), D(2027, 5, 10))),
)
MARKS_FROM = {1: None, 2: D(2026, 11, 5)}  # other grades: from the first day
LATE_REASON = "исправлена описка"
RETRACT_REASON = "отметка выставлена ошибочно"

SUBJECTS = _table("""
russian: Русский язык
literature: Литература
reading: Литературное чтение
math: Математика
algebra: Алгебра
geometry: Геометрия
informatics: Информатика
english: Английский язык
history: История
social: Обществознание
geography: География
biology: Биология
physics: Физика
chemistry: Химия
world: Окружающий мир
music: Музыка
art: Изобразительное искусство
technology: Труд (технология)
pe: Физическая культура
obzh: Основы безопасности и защиты Родины
""")
CURRICULUM = {
    int(grade): hours
    for grade, hours in _table("""
1: russian:5 reading:4 math:4 world:2 art:1 music:1 pe:3 technology:1
2: russian:5 reading:4 math:4 world:2 english:2 art:1 music:1 pe:2 technology:1
3: russian:5 reading:4 math:4 world:2 english:2 art:1 music:1 pe:2 technology:1
4: russian:5 reading:4 math:4 world:2 english:2 art:1 music:1 pe:2 technology:1
5: russian:5 literature:3 math:5 english:3 history:2 geography:1 biology:1 music:1 art:1
   technology:2 pe:2
6: russian:5 literature:3 math:5 english:3 history:2 social:1 geography:1 biology:1 music:1
   art:1 technology:2 pe:2
7: russian:4 literature:2 algebra:3 geometry:2 informatics:1 english:3 history:2 social:1
   geography:2 biology:1 physics:2 music:1 art:1 technology:2 pe:2
8: russian:3 literature:2 algebra:3 geometry:2 informatics:1 english:3 history:2 social:1
   geography:2 biology:2 physics:2 chemistry:2 music:1 technology:1 obzh:1 pe:2
9: russian:3 literature:3 algebra:3 geometry:2 informatics:1 english:3 history:2 social:1
   geography:2 biology:2 physics:3 chemistry:2 obzh:1 pe:2
10: russian:2 literature:3 algebra:3 geometry:2 informatics:1 english:3 history:2 social:2
   geography:1 biology:1 physics:2 chemistry:1 obzh:1 pe:2
11: russian:2 literature:3 algebra:3 geometry:2 informatics:1 english:3 history:2 social:2
   geography:1 biology:1 physics:2 chemistry:1 obzh:1 pe:2
""").items()
}
# Full name | roles | subjects:grades taught | class teacher of (0: none)
STAFF_TABLE = """
Соколова Валентина Петровна | director teacher | history:5-11 social:6-11 | 0
Морозова Ирина Николаевна | deputy teacher | russian,literature:9-11 | 0
Лебедева Ольга Ивановна | teacher | russian,literature:5-8 | 5
Кузнецов Андрей Викторович | teacher | math:5-6 algebra,geometry:7-11 | 9
Васильева Наталья Сергеевна | teacher | biology,geography:5-11 chemistry:8-11 | 7
Белов Сергей Александрович | sysadmin teacher | physics,informatics:7-11 | 8
Попова Елена Викторовна | teacher | english:2-11 | 6
Фёдоров Николай Иванович | teacher | pe:1-11 obzh:8-11 technology:5-8 | 11
Орлова Татьяна Михайловна | teacher | music:1-8 art:5-7 | 10
Никитина Людмила Алексеевна | teacher | russian,reading,math,world,art,technology:1 | 1
Зайцева Светлана Юрьевна | teacher | russian,reading,math,world,art,technology:2 | 2
Павлова Марина Геннадьевна | teacher | russian,reading,math,world,art,technology:3 | 3
Григорьева Анна Владимировна | teacher | russian,reading,math,world,art,technology:4 | 4
Смирнова Галина Фёдоровна | records_officer | | 0
"""
POSITIONS = {
    Role.DIRECTOR: "директор",
    Role.DEPUTY: "заместитель директора по УВР",
    Role.RECORDS_OFFICER: "документовед",
    Role.SYSADMIN: "системный администратор",
    Role.TEACHER: "учитель",
}
SURNAMES = _words("""
Шестаков Нечаев Пономарёв Корелин Вешняков Игнатьев Мальцев Заостровцев Поздеев Кузьмин Брагин
Тарасов Шергин Хромцов Плотников Ряхин Бурков Мамонтов Хохлов Черепанов Пахолков Кокорин Ершов
Лукин Медведев Зуев Колосов Ляпунов Суханов Пестов Ушаков Тюшняков Коптяев Большаков Гусев
Лобанов Окулов Сидоров Петров Богданов Тимофеев Воронин Никифоров Ефремов Осипов Мухин Прокопьев
Щукин Белозёров Жуков Калинин Фомин Дьячков Андреев Макаров Комаров Голубев Фролов Рогачёв
Старцев Шубин Кононов Селиванов Яковлев Горбунов Носов Ильин Савин Губин Трофимов Кочнев Шадрин
Карпов Евсеев Баранов Моисеев Елисеев Успенский Преображенский Кравченко Шевчук
""")  # male forms: the families of the village
FATHERS = _words("""Александр Алексей Андрей Сергей Дмитрий Николай Иван Михаил Владимир Евгений
Павел Виктор Олег Роман Юрий Игорь Василий Анатолий Геннадий Денис Константин""")
MOTHERS = _words("""Елена Ольга Наталья Татьяна Ирина Светлана Юлия Анна Екатерина Марина
Надежда Людмила Оксана Галина Евгения Анастасия Мария Виктория Любовь""")
BOYS = _words("""Артём Максим Иван Михаил Даниил Кирилл Егор Матвей Дмитрий Александр Тимофей
Роман Ярослав Андрей Степан Алексей Фёдор Глеб Владислав Богдан""")
GIRLS = _words("""Анастасия Мария Дарья Полина Софья Анна Виктория Ксения Елизавета Алёна
Варвара Екатерина Вероника Ульяна Валерия Арина Милана Алиса Таисия Василиса""")

TOPICS = {
    key: value.split("; ")
    for key, value in _table("""
russian_primary: Наша речь; Текст и предложение; Слово и слог; Звуки и буквы; Гласные и
  согласные звуки; Ударение; Перенос слов; Правописание жи–ши, ча–ща, чу–щу; Заглавная буква в
  именах; Корень слова. Однокоренные слова; Безударные гласные в корне; Парные звонкие и глухие
  согласные; Разделительный мягкий знак; Состав слова; Имя существительное; Имя прилагательное;
  Глагол; Местоимение; Предлоги; Словарный диктант
russian: Повторение изученного в начальных классах; Орфограмма. Место орфограмм в словах;
  Правописание проверяемых безударных гласных в корне; Правописание непроизносимых согласных;
  Морфемика. Части слова; Чередование гласных в корне; Буквы О–Ё после шипящих в корне; Имя
  существительное как часть речи; Склонение имён существительных; Имя прилагательное; Глагол.
  Спряжение глаголов; Словосочетание; Простое предложение. Грамматическая основа; Однородные
  члены предложения; Обращение; Сложное предложение; Прямая речь; Причастие и причастный оборот;
  Деепричастный оборот; Наречие; Предлог как служебная часть речи; Союз; Частица НЕ с разными
  частями речи; Развитие речи. Сочинение-описание; Изложение с элементами сочинения
literature: Малые жанры фольклора; Русские народные сказки; Басни И. А. Крылова; А. С. Пушкин.
  «Сказка о мёртвой царевне и о семи богатырях»; М. Ю. Лермонтов. «Бородино»; Н. В. Гоголь.
  «Ночь перед Рождеством»; И. С. Тургенев. «Муму»; Н. А. Некрасов. «Крестьянские дети»;
  Л. Н. Толстой. «Кавказский пленник»; А. П. Чехов. «Хирургия»; С. А. Есенин. Стихи о родной
  природе; П. П. Бажов. «Медной горы Хозяйка»; К. Г. Паустовский. «Тёплый хлеб»; В. П. Астафьев.
  «Васюткино озеро»; Ф. А. Абрамов. «О чём плачут лошади»; А. С. Пушкин. «Капитанская дочка»;
  Н. В. Гоголь. «Ревизор»; А. С. Грибоедов. «Горе от ума»; А. Н. Островский. «Гроза»;
  Ф. М. Достоевский. «Преступление и наказание»; Л. Н. Толстой. «Война и мир»
reading: Азбука. Речь устная и письменная; Азбука. Слово и предложение; Азбука. Слог, ударение;
  Малые фольклорные жанры; А. С. Пушкин. «Уж небо осенью дышало…»; Осень в стихах русских поэтов;
  И. А. Крылов. «Лебедь, Рак и Щука»; Л. Н. Толстой. «Филиппок»; Н. Н. Носов. «Живая шляпа»;
  В. В. Бианки. «Сова»; М. М. Пришвин. «Ребята и утята»; Е. И. Чарушин. «Страшный рассказ»;
  Б. С. Житков. «Храбрый утёнок»; К. Д. Ушинский. «Четыре желания»; Сказка «Лиса и журавль»;
  Сказка «Каша из топора»; С. Я. Маршак. «Кошкин дом»; С. В. Михалков. «Трезор»; А. Л. Барто.
  Стихи для детей; Внеклассное чтение. Книги о природе
math_primary: Счёт предметов; Сравнение групп предметов; Числа от 1 до 10; Сложение и вычитание
  в пределах 10; Числа от 11 до 20; Нумерация чисел от 1 до 100; Сложение и вычитание двузначных
  чисел; Единицы длины: сантиметр, дециметр, метр; Периметр многоугольника; Таблица умножения на
  2 и 3; Умножение и деление на 4; Решение задач в два действия; Порядок выполнения действий;
  Числа, которые больше 1000; Письменное умножение на однозначное число; Деление с остатком;
  Площадь прямоугольника; Единицы времени; Уравнения; Задачи на движение
math: Натуральные числа и шкалы; Сложение и вычитание натуральных чисел; Умножение и деление
  натуральных чисел; Упрощение выражений; Степень числа. Квадрат и куб; Площади и объёмы;
  Обыкновенные дроби; Сравнение дробей; Смешанные числа; Десятичные дроби; Округление чисел;
  Проценты; Признаки делимости; НОД и НОК; Основное свойство дроби; Сложение и вычитание дробей с
  разными знаменателями; Умножение дробей; Отношения и пропорции; Координатная прямая;
  Положительные и отрицательные числа
algebra: Выражения. Преобразование выражений; Линейное уравнение с одной переменной; Функция и
  её график; Линейная функция; Степень с натуральным показателем; Одночлены; Многочлены; Формулы
  сокращённого умножения; Системы линейных уравнений; Квадратные корни; Квадратные уравнения.
  Теорема Виета; Рациональные уравнения; Неравенства с одной переменной; Квадратичная функция;
  Арифметическая прогрессия; Геометрическая прогрессия; Тригонометрическая окружность; Синус,
  косинус и тангенс числа; Тригонометрические уравнения; Производная функции; Показательная
  функция; Логарифмы и их свойства
geometry: Точки, прямые, отрезки; Измерение отрезков и углов; Смежные и вертикальные углы;
  Признаки равенства треугольников; Равнобедренный треугольник; Параллельные прямые; Сумма углов
  треугольника; Параллелограмм и трапеция; Прямоугольник, ромб, квадрат; Площадь многоугольника;
  Теорема Пифагора; Подобные треугольники; Окружность. Касательная; Векторы; Метод координат;
  Аксиомы стереометрии; Параллельность прямых и плоскостей; Перпендикулярность в пространстве;
  Многогранники
informatics: Техника безопасности в компьютерном классе; Информация и информационные процессы;
  Двоичное кодирование; Единицы измерения информации; Устройство компьютера; Файлы и файловая
  система; Текстовый редактор; Компьютерная графика; Системы счисления; Основы алгебры логики;
  Алгоритмы и исполнители; Python: переменные и ввод-вывод; Ветвления; Циклы; Списки;
  Электронные таблицы; Базы данных; Компьютерные сети; Информационная безопасность
english_primary: Hello! Знакомство; My family; My toys; Colours; Numbers 1–10; Animals; My
  school things; Food I like; The alphabet; Seasons and weather; My house; Clothes; My day;
  Модальный глагол can; Present Simple
english: School life; My family and friends; Present Simple and Present Continuous; Hobbies and
  free time; Past Simple; The United Kingdom; Russia is my homeland; Travelling; Future Simple;
  Degrees of comparison; Healthy lifestyle; Present Perfect; The environment; Modal verbs;
  Passive Voice; Reported Speech; Science and technology; Choosing a career; Conditionals; Media
  and the Internet
history: Исторические источники; Первобытные люди; Древний Египет; Древняя Греция. Полисы;
  Древний Рим; Средневековая Европа; Образование Древнерусского государства; Крещение Руси;
  Раздробленность Руси; Монгольское нашествие; Образование единого Русского государства; Россия
  в XVI веке. Иван IV; Смутное время; Россия при первых Романовых; Преобразования Петра I; Эпоха
  дворцовых переворотов; Россия при Екатерине II; Отечественная война 1812 года; Великие реформы
  Александра II; Россия в начале XX века; Великая Отечественная война 1941–1945 гг.
social: Человек — личность; Человек и общество; Семья и семейные отношения; Школьное
  образование; Права и обязанности граждан; Конституция Российской Федерации; Экономика и её роль
  в жизни общества; Рынок и рыночный механизм; Политика и власть; Государство; Правовое
  государство; Социальная сфера; Культура и духовная жизнь; Гражданское общество
geography: География как наука; План местности; Географические координаты; Литосфера;
  Гидросфера; Атмосфера. Погода и климат; Биосфера; Материки и океаны; Население Земли;
  Географическое положение России; Рельеф России; Климат России; Внутренние воды России;
  Природные зоны России; Европейский Север. Архангельская область; Хозяйство России; Мировое
  хозяйство
biology: Биология — наука о живой природе; Методы изучения природы; Увеличительные приборы;
  Строение клетки; Ткани; Бактерии; Грибы; Строение цветка; Фотосинтез; Многообразие животных;
  Простейшие; Позвоночные животные; Ткани и органы человека; Опорно-двигательная система; Кровь
  и кровообращение; Дыхание; Пищеварение; Нервная система; Законы Менделя; Эволюция органического
  мира; Экосистемы
physics: Физика и её методы; Физические величины. Измерения; Строение вещества; Механическое
  движение; Скорость; Плотность вещества; Сила тяжести; Давление; Архимедова сила; Работа и
  мощность; Тепловые явления; Электрический ток; Закон Ома; Законы Ньютона; Закон сохранения
  импульса; Механические колебания и волны; Молекулярно-кинетическая теория; Электромагнитная
  индукция; Световые явления
chemistry: Предмет химии; Техника безопасности в кабинете химии; Чистые вещества и смеси; Атомы
  и молекулы; Относительная атомная масса; Валентность; Химические реакции; Кислород; Водород;
  Вода. Растворы; Основные классы неорганических соединений; Периодический закон
  Д. И. Менделеева; Строение атома; Химическая связь; Окислительно-восстановительные реакции;
  Электролитическая диссоциация; Углеводороды
world: Мы и наш мир; Природа и рукотворный мир; Неживая и живая природа; Осенние изменения в
  природе; Звёздное небо; Деревья и кустарники нашего края; Дикие и домашние животные; Насекомые;
  Берегите природу; Наш родной край; Город и село; Профессии людей; Безопасность на дорогах;
  Здоровье человека; Органы чувств; Водоёмы нашего края
music: Музыка в жизни человека; Русские народные песни; Музыкальные инструменты; Композитор —
  исполнитель — слушатель; П. И. Чайковский. «Детский альбом»; Музыка и живопись; Песня, танец,
  марш; М. И. Глинка; Оперный театр; Симфонический оркестр; Музыка народов России; Хоровое пение
art: Осенний пейзаж; Рисование с натуры: листья; Тёплые и холодные цвета; Декоративно-прикладное
  искусство; Пермогорская роспись; Натюрморт; Портрет; Пропорции фигуры человека; Перспектива;
  Народные промыслы России; Аппликация; Иллюстрация к сказке
technology: Техника безопасности на уроках труда; Материалы и инструменты; Работа с бумагой.
  Оригами; Изделия из природных материалов; Древесина. Пиление и строгание; Разметка заготовок;
  Соединение деталей; Ручные швы; Кулинария: здоровое питание; Робототехника; Черчение и эскизы;
  Творческий проект
pe: Инструктаж по технике безопасности; Бег на 30 м; Бег на 60 м; Прыжок в длину с места;
  Метание мяча; Кроссовая подготовка; Челночный бег; Подвижные игры; Баскетбол. Ведение мяча;
  Волейбол. Передача мяча; Строевые упражнения; Акробатика; Лазание по канату; Прыжки через
  скакалку; Футбол
obzh: Безопасность в повседневной жизни; Пожарная безопасность; Безопасность на дорогах;
  Безопасность на водоёмах; Безопасность в лесу; Первая помощь; Чрезвычайные ситуации природного
  характера; Гражданская оборона; Вооружённые Силы Российской Федерации; Воинская обязанность;
  Информационная безопасность; Противодействие терроризму
""").items()
}
HOMEWORK = _table("""
russian_primary: Упр. {e}, с. {page}
russian: §{p}, упр. {e}–{e2}
literature: Прочитать с. {page}–{page2}, ответить на вопросы
reading: Выразительное чтение с. {page}–{page2}
math_primary: С. {page}, № {n}, {e}
math: № {e}, {e2}
algebra: §{p}, № {e}, {e2}
geometry: §{p}, № {e}, {e2}
english_primary: Учебник с. {page}, упр. {n}
english: Учебник с. {page}, упр. {n}; выучить слова
world: Рабочая тетрадь с. {page}–{page2}
informatics: §{p}, задания 1–{n}
pe:
music:
art:
technology:
""")
CONTROL_SUBJECTS = frozenset(_words("russian math algebra geometry english physics chemistry"))
UNTESTED = frozenset(_words("pe music art technology"))  # no контрольные работы
LAB_SUBJECTS = frozenset(_words("physics chemistry biology"))
PRACTICAL_SUBJECTS = frozenset(_words("geography informatics technology world"))
_LATIN = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_TRANSLIT = str.maketrans(
    {
        a: b.strip("-")
        for a, b in zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _words(_LATIN), strict=True)
    }
)


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    role: Role
    person_id: str


@dataclass(frozen=True)
class DemoSchool:
    directory: Directory
    parents: tuple[Parent, ...]
    parent_links: tuple[ParentLink, ...]
    accounts: tuple[Account, ...]
    events: dict[str, list[JournalEvent]]  # journal id -> events in the order they were written


def translit(text: str) -> str:
    return text.lower().translate(_TRANSLIT)


def female_surname(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname + "а" if surname.endswith(("ов", "ев", "ёв", "ин", "ын")) else surname


def patronymic(father: str, female: bool) -> str:
    if father in ("Павел", "Михаил"):  # a vowel drops or turns: Павлович, Михайлович
        stem = {"Павел": "Павлов", "Михаил": "Михайлов"}[father]
    elif father.endswith("ий"):
        stem = father[:-2] + "ьев"
    elif father.endswith("й"):
        stem = father[:-1] + "ев"
    else:
        stem = father + "ов"
    return stem + ("на" if female else "ич")


def _wall(day: dt.date, minutes: int) -> int:
    """Milliseconds since the epoch at `minutes` past midnight (Moscow time) of `day`."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=MSK)
    return (int(midnight.timestamp()) + minutes * 60) * 1000


def _wall_date(wall_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(wall_ms / 1000, tz=MSK).date()


def school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5 and not any(a <= d <= b for a, b in HOLIDAYS)]


@functools.cache
def hours_of(grade: int) -> dict[str, int]:
    return {s: int(h) for s, h in (item.split(":") for item in CURRICULUM[grade].split())}


def _class_id(grade: int) -> str:
    return f"{YEAR_ID}-{grade}"


# ------------------------------------------------------------------------------ people


def _staff() -> tuple[list[Staff], list[TeachingAssignment], list[ClassTeacher]]:
    staff, teaching, class_teachers = [], [], []
    for line in STAFF_TABLE.strip().splitlines():
        name, roles, taught, own_class = (part.strip() for part in line.split("|"))
        last, first, patr = name.split()
        person = Staff(
            id=f"t-{translit(last)}", last_name=last, first_name=first, patronymic=patr,
            roles=tuple(Role(r) for r in roles.split()),
        )  # fmt: skip
        staff.append(person)
        for item in taught.split():
            subjects, _, grades = item.partition(":")
            low, _, high = grades.partition("-")
            for grade in range(int(low), int(high or low) + 1):
                teaching += [
                    TeachingAssignment(
                        teacher_id=person.id, class_id=_class_id(grade), subject_id=s
                    )
                    for s in subjects.split(",")
                ]
        if own_class != "0":
            class_teachers.append(
                ClassTeacher(teacher_id=person.id, class_id=_class_id(int(own_class)))
            )
    return staff, teaching, class_teachers


def _families(rng: random.Random):
    """Students, memberships, parents and links; siblings share surname, patronymic, parents."""
    sizes = {g: rng.randint(4, 9) for g in range(1, 12)}
    sizes[3] = max(sizes[3], 5)  # a pupil leaves the 3rd grade; four or more stay
    sizes[6] = min(sizes[6], 8)  # a pupil joins the 6th grade
    families: list[list[int]] = []  # the grades of each family's children
    for _ in range(3):
        pair = sorted(rng.sample([g for g in range(1, 12) if sizes[g] > 4], 2))
        families.append(pair)
        for g in pair:
            sizes[g] -= 1
    families += [[g] for g in range(1, 12) for _ in range(sizes[g])]
    leaver = rng.choice([i for i, f in enumerate(families) if f == [3]])
    families.append([6])  # the newcomer's
    students, memberships, parents, links = [], [], [], []
    for index, (grades, surname) in enumerate(
        zip(families, rng.sample(SURNAMES, len(families)), strict=True)
    ):
        father, kids = rng.choice(FATHERS), []
        for grade in grades:
            female = rng.random() < 0.5
            taken = {k.first_name for k in kids}
            first = rng.choice([n for n in (GIRLS if female else BOYS) if n not in taken])
            last = female_surname(surname) if female else surname
            kid = Student(
                id=f"s-{translit(last)}-{translit(first)}", last_name=last, first_name=first,
                patronymic=patronymic(father, female),
                birth_date=D(2019 - grade, 9, 1) + dt.timedelta(days=rng.randrange(365)),
            )  # fmt: skip
            kids.append(kid)
            joined = D(2026, 10, 12) if index == len(families) - 1 else YEAR.starts
            left = D(2026, 10, 30) if index == leaver else None
            memberships.append(
                Membership(student_id=kid.id, class_id=_class_id(grade), starts=joined, ends=left)
            )
        r, adults = rng.random(), []
        if r < 0.93:  # the mother
            first, last = rng.choice(MOTHERS), female_surname(surname)
            grandfather = rng.choice(FATHERS)
            adults.append(
                Parent(id=f"p-{translit(last)}-{translit(first)}", last_name=last, first_name=first,
                       patronymic=patronymic(grandfather, True))
            )  # fmt: skip
        if r < 0.65 or r >= 0.93:  # the father: with the mother, or alone
            adults.append(
                Parent(id=f"p-{translit(surname)}-{translit(father)}", last_name=surname,
                       first_name=father, patronymic=patronymic(rng.choice(FATHERS), False))
            )  # fmt: skip
        students += kids
        parents += adults
        links += [ParentLink(parent_id=a.id, student_id=k.id) for a in adults for k in kids]
    return students, memberships, parents, links


def _accounts(directory: Directory, parents: list[Parent], suffix: str = "") -> list[Account]:
    grade = {c.id: c.grade for c in directory.classes}
    senior = {m.student_id for m in directory.memberships if grade[m.class_id] >= 5}
    people = [(s, s.roles[0], PASSWORDS["staff"]) for s in directory.staff]
    people += [(p, Role.PARENT, PASSWORDS["parent"]) for p in parents]
    people += [
        (s, Role.STUDENT, PASSWORDS["student"]) for s in directory.students if s.id in senior
    ]
    accounts, taken = [], set()
    for person, role, password in people:
        initials = "".join(translit(p)[0] for p in (person.first_name, person.patronymic) if p)
        base = login = f"{translit(person.last_name)}.{initials}{suffix}"
        n = 1
        while login in taken:
            n += 1
            login = f"{base}{n}"
        taken.add(login)
        accounts.append(Account(login=login, password=password, role=role, person_id=person.id))
    return accounts


def _timetable(rng: random.Random, grade: int) -> list[list[str]]:
    """Each weekday's subjects in lesson order; a double lesson is two adjacent entries."""
    days: list[list[tuple[str, ...]]] = [[] for _ in range(5)]
    load = [0] * 5
    for subject, hours in sorted(hours_of(grade).items(), key=lambda item: -item[1]):
        double = subject == "technology" or (grade >= 10 and subject in ("algebra", "literature"))
        blocks = [2] + [1] * (hours - 2) if double and hours >= 2 else [1] * hours
        order = sorted(range(5), key=lambda d: (load[d], rng.random()))
        for block, d in zip(blocks, order, strict=False):
            days[d].append((subject,) * block)
            load[d] += block
    for day in days:
        rng.shuffle(day)
    return [[s for block in day for s in block] for day in days]


# ------------------------------------------------------------------------------ journals


class _Term:
    """Writes the autumn term: lessons, attendance, marks, corrections and quarter marks."""

    def __init__(
        self, rng: random.Random, directory: Directory, last_entry: dt.date, prefix: str = "demo"
    ):
        self.rng, self.directory, self.last_entry = rng, directory, last_entry
        self.year_id, self.prefix = directory.year.id, prefix  # event ids unique per database
        self.q1_id = f"{self.year_id}-q1"
        grade = {c.id: c.grade for c in directory.classes}
        self.teacher, self.grade = {}, {}
        for t in directory.teaching:
            self.teacher[journal_id(self.year_id, t.class_id, t.subject_id)] = t.teacher_id
            self.grade[journal_id(self.year_id, t.class_id, t.subject_id)] = grade[t.class_id]
        self.items: list[tuple[int, int, str, type, dict]] = []  # wall, seq, journal, type, fields
        self.lesson_count: dict[str, int] = defaultdict(int)
        self.amendable: list[tuple[str, int, str, dict]] = []  # lessons with homework
        self.marks: list[tuple[str, int, dt.date, str, dict]] = []  # journal, wall, day, id, fields
        self.q1_wall: dict[str, int] = defaultdict(int)  # journal -> last entry on quarter 1
        self.ill: dict[str, int] = defaultdict(int)  # school days of illness left
        self.ability = {s.id: min(4.9, max(3.0, rng.gauss(4.1, 0.45))) for s in directory.students}

    def add(self, journal: str, wall: int, cls: type, day: dt.date, fields: dict) -> str:
        event_id = f"{self.prefix}-{len(self.items):07d}"
        self.items.append((wall, len(self.items), journal, cls, fields | {"id": event_id}))
        if day <= Q1.ends:
            self.q1_wall[journal] = max(self.q1_wall[journal], wall)
        return event_id

    def class_id(self, grade: int) -> str:
        return f"{self.year_id}-{grade}"

    def record_day(self, school_class: SchoolClass, day: dt.date, subjects: list[str]) -> None:
        roster = self.directory.class_roster(school_class.id, day)
        day_codes = {}
        for student in roster:  # an illness lasts days; other absences are rarer
            if self.ill[student.id] == 0 and self.rng.random() < 0.008:
                self.ill[student.id] = self.rng.randint(2, 5)
            if self.ill[student.id]:
                day_codes[student.id] = AttendanceCode.ILL
                self.ill[student.id] -= 1
            elif self.rng.random() < 0.003:
                day_codes[student.id] = AttendanceCode.EXCUSED
        for number, subject in enumerate(subjects, start=1):
            slot = subjects[:number].count(subject)
            self.lesson(school_class.grade, subject, day, number, slot, roster, day_codes)

    def lesson(self, grade, subject, day, number, slot, roster, day_codes) -> None:
        rng, journal = self.rng, journal_id(self.year_id, self.class_id(grade), subject)
        k = self.lesson_count[journal]
        self.lesson_count[journal] += 1
        work = self.work_kind(grade, subject) if k else WorkKind.REGULAR
        topic, homework = self.topic(grade, subject, k, work)
        r = rng.random()
        if r < 0.75:  # during the lesson; the first one starts at 8:30
            wall = _wall(day, 510 + (number - 1) * 55 + rng.randint(1, 6))
        else:  # in the evening, sometimes a few days later
            late = day + dt.timedelta(days=rng.randint(1, 3) if r > 0.9 else 0)
            wall = _wall(min(late, max(day, self.last_entry)), rng.randint(16 * 60, 21 * 60))
        lesson_id = f"{self.class_id(grade)}-{subject}-{day:%Y%m%d}-{slot}"
        fields = dict(
            lesson_id=lesson_id, date=day, slot=slot, topic=topic, homework=homework, work_kind=work
        )
        event_id = self.add(journal, wall, LessonRecorded, day, fields)
        if homework:
            self.amendable.append((journal, wall, event_id, fields))
        present = []
        for i, student in enumerate(roster):
            code = day_codes.get(student.id) or self.lesson_code()
            entry = dict(lesson_id=lesson_id, student_id=student.id, code=code)
            self.add(journal, wall + 1000 * (i + 1), AttendanceMarked, day, entry)
            if code in (AttendanceCode.PRESENT, AttendanceCode.LATE):
                present.append(student.id)
        marks_from = MARKS_FROM.get(grade, YEAR.starts)
        if marks_from is None or day < marks_from or not present:
            return
        control = work == WorkKind.CONTROL  # everybody writes the test
        share = 1.0 if control else rng.uniform(0.2, 0.4)
        chosen = rng.sample(present, round(len(present) * share))
        at = wall + (rng.randint(10, 40) * 60 if r < 0.75 else 60) * 1000
        for student_id in (s for s in present if s in chosen):
            for mark_slot in (0, 1) if control and subject == "russian" else (0,):
                value = min(5, max(2, math.floor(rng.gauss(self.ability[student_id], 0.7) + 0.5)))
                mark = dict(
                    lesson_id=lesson_id,
                    student_id=student_id,
                    value=value,
                    slot=mark_slot,
                    work_kind=work,
                    weight=2 if control else 1,
                )
                at += 1000
                self.marks.append(
                    (journal, at, day, self.add(journal, at, MarkGiven, day, mark), mark)
                )

    def lesson_code(self) -> AttendanceCode:
        r = self.rng.random()
        if r < 0.006:
            return AttendanceCode.ABSENT
        if r < 0.014:
            return AttendanceCode.LATE
        return AttendanceCode.EXCUSED if r < 0.017 else AttendanceCode.PRESENT

    def work_kind(self, grade: int, subject: str) -> WorkKind:
        if grade == 1:
            return WorkKind.REGULAR
        core = subject in CONTROL_SUBJECTS
        chances = (
            (WorkKind.CONTROL, 0.07 if core else 0.0 if subject in UNTESTED else 0.03),
            (WorkKind.LABORATORY, 0.12 if subject in LAB_SUBJECTS else 0.0),
            (WorkKind.PRACTICAL, 0.12 if subject in PRACTICAL_SUBJECTS else 0.0),
            (WorkKind.INDEPENDENT, 0.06 if core else 0.0),
        )
        r = self.rng.random()
        for kind, chance in chances:
            if r < chance:
                return kind
            r -= chance
        return WorkKind.REGULAR

    def topic(self, grade: int, subject: str, k: int, work: WorkKind) -> tuple[str, str]:
        """The k-th lesson's topic and homework: each topic takes a few lessons in a row."""
        key = f"{subject}_primary" if grade <= 4 and f"{subject}_primary" in TOPICS else subject
        grades = [g for g in CURRICULUM if subject in hours_of(g) and (g <= 4) == (grade <= 4)]
        topics = TOPICS[key]
        start = len(topics) * (grade - min(grades)) // len(grades)
        index = start + k // ((hours_of(grade)[subject] + 1) // 2)
        if work == WorkKind.CONTROL:  # a test is on what has been covered
            title = "Контрольный диктант" if subject == "russian" else "Контрольная работа"
            return f"{title}: {topics[max(start, index - 1) % len(topics)]}", ""
        topic = topics[index % len(topics)]
        topic = {
            WorkKind.LABORATORY: f"Лабораторная работа: {topic}",
            WorkKind.PRACTICAL: f"Практическая работа: {topic}",
            WorkKind.INDEPENDENT: f"{topic}. Самостоятельная работа",
        }.get(work, topic)
        if grade == 1:
            return topic, ""  # no homework in the first grade
        e, page = 10 + 4 * k + self.rng.randint(0, 3), 6 + (3 * k) % 240
        numbers = dict(
            p=1 + index % 40, e=e, e2=e + self.rng.randint(1, 3), page=page, page2=page + 4
        )
        template = HOMEWORK.get(key, "§{p}, вопросы 1–{n}")
        return topic, template.format(n=self.rng.randint(3, 6), **numbers)

    def corrections(self) -> dict[str, tuple[str, dt.date, dict]]:
        """Slips corrected the same day or later (with a reason), a few marks retracted,
        a few lessons' homework amended. Returns the current marks: id -> journal, day, fields."""
        rng = self.rng
        current = {event_id: (journal, day, mark) for journal, _, day, event_id, mark in self.marks}
        picks = rng.sample(self.marks, max(4, len(self.marks) // 150) + 3)
        for n, (journal, wall, day, event_id, mark) in enumerate(picks):
            later = _wall_date(wall) + dt.timedelta(days=rng.randint(1, 2))
            evening = rng.randint(16 * 60, 20 * 60)
            at = _wall(min(later, self.last_entry), evening) if rng.random() < 0.5 else 0
            at = max(at, wall + rng.randint(2, 30) * 60_000)
            del current[event_id]
            if n < 3:
                self.add(
                    journal, at, Retracted, day, dict(supersedes=(event_id,), reason=RETRACT_REASON)
                )
                continue
            value = mark["value"]
            value += 1 if value == 2 or (value < 5 and rng.random() < 0.6) else -1
            # 000 §5.3: after the lesson's day (or the entry's) a correction gives its reason
            reason = LATE_REASON if _wall_date(at) > min(_wall_date(wall), day) else ""
            fixed = mark | dict(value=value, supersedes=(event_id,), reason=reason)
            current[self.add(journal, at, MarkGiven, day, fixed)] = (journal, day, fixed)
        for journal, wall, event_id, lesson in rng.sample(
            self.amendable, max(3, len(self.amendable) // 200)
        ):
            homework = lesson["homework"] + "; повторить записи в тетради"
            amended = lesson | dict(homework=homework, supersedes=(event_id,))
            self.add(
                journal, wall + rng.randint(5, 90) * 60_000, LessonRecorded, lesson["date"], amended
            )
        return current

    def quarter_marks(self, current: dict[str, tuple[str, dt.date, dict]], q1_last: dt.date):
        """Quarter-1 marks: the rounded weighted average, entered after the last lesson."""
        rng, by_pupil = self.rng, defaultdict(list)
        for journal, day, mark in current.values():
            if day <= Q1.ends:
                by_pupil[(journal, mark["student_id"])].append((mark["value"], mark["weight"]))
        days = [q1_last + dt.timedelta(days=n) for n in (0, 1, 3, 4)]
        choices = [d for d in days if d <= self.last_entry]
        for journal, grade in self.grade.items():
            if grade >= 10:
                continue  # grades 10–11 are assessed by halves
            wall = max(
                _wall(rng.choice(choices), rng.randint(15 * 60, 19 * 60)),
                self.q1_wall[journal] + 300_000,
            )
            for i, student in enumerate(self.directory.class_roster(self.class_id(grade))):
                if marks := by_pupil.get((journal, student.id)):
                    value = math.floor(
                        sum(v * w for v, w in marks) / sum(w for _, w in marks) + 0.5
                    )
                    mark = dict(period_id=self.q1_id, student_id=student.id, value=value)
                    self.add(journal, wall + 1000 * i, PeriodMarkGiven, Q1.ends, mark)

    def events(self) -> dict[str, list[JournalEvent]]:
        """Stamp every entry with its device's hybrid clock; each journal's list in clock order."""
        result: dict[str, list[JournalEvent]] = {j: [] for j in self.teacher}
        last: dict[str, tuple[int, int]] = {}
        for wall, _, journal, cls, fields in sorted(
            self.items, key=lambda item: (self.teacher[item[2]], item[0], item[1])
        ):
            teacher = self.teacher[journal]
            node = f"{self.prefix}-{teacher}"
            prev_wall, prev_counter = last.get(teacher, (-1, 0))
            counter = prev_counter + 1 if wall == prev_wall else 0
            last[teacher] = (wall, counter)
            stamp = format_stamp(wall, counter, node)
            result[journal].append(cls(author=teacher, device=node, hlc=stamp, **fields))
        return result


def build_demo_school(
    seed: int = 2026, *, today: dt.date = DEFAULT_TODAY, lessons_until: dt.date | None = None
) -> DemoSchool:
    rng = random.Random(seed)
    until = min(lessons_until or today - dt.timedelta(days=1), YEAR.ends)
    staff, teaching, class_teachers = _staff()
    students, memberships, parents, links = _families(rng)
    classes = tuple(SchoolClass(id=_class_id(g), year_id=YEAR_ID, grade=g) for g in range(1, 12))
    grade = {m.student_id: int(m.class_id.rsplit("-", 1)[1]) for m in memberships}
    students.sort(key=lambda s: (grade[s.id], s.last_name, s.first_name, s.id))
    order = {s: i for i, s in enumerate(SUBJECTS)}
    teaching.sort(key=lambda t: (int(t.class_id.rsplit("-", 1)[1]), order[t.subject_id]))
    journals = tuple(
        JournalInfo(id=journal_id(YEAR_ID, t.class_id, t.subject_id), year_id=YEAR_ID,
                    class_id=t.class_id, subject_id=t.subject_id)
        for t in teaching
    )  # fmt: skip
    directory = Directory(
        school=SCHOOL, year=YEAR, periods=PERIODS, classes=classes,
        subjects=tuple(Subject(id=s, name=name) for s, name in SUBJECTS.items()),
        students=tuple(students), memberships=tuple(memberships), staff=tuple(staff),
        teaching=tuple(teaching), class_teachers=tuple(class_teachers), journals=journals,
    )  # fmt: skip
    term = _Term(rng, directory, max(until, today - dt.timedelta(days=1)))
    timetables = {c.id: _timetable(rng, c.grade) for c in classes}
    for day in school_days(YEAR.starts, until):
        for school_class in classes:
            term.record_day(school_class, day, timetables[school_class.id][day.weekday()])
    current = term.corrections()
    q1_last = school_days(Q1.starts, Q1.ends)[-1]
    if until >= q1_last:
        term.quarter_marks(current, q1_last)
    accounts = tuple(_accounts(directory, parents))
    return DemoSchool(directory, tuple(parents), tuple(links), accounts, term.events())


# The neighbour school: a small basic school (grades 5–9) of the same district, so the district
# office's page compares two schools. Its ids, logins («….oz») and event ids are its own.
NEIGHBOUR = School(id="ozernoe", name='МБОУ "Озёрная ООШ"', district=SCHOOL.district)
NEIGHBOUR_YEAR_ID = "ozernoe-2026-2027"
NEIGHBOUR_STAFF = (  # full name | roles | subjects:grades | class teacher of
    "Рябова Нина Степановна | director teacher | russian,literature:5-9 | 5",
    "Ершов Павел Ильич | teacher | math:5-6 algebra,geometry:7-9 | 7",
    "Белкина Алла Юрьевна | deputy teacher | english,history:5-9 | 9",
)
DISTRICT_LOGIN = "okrug"  # the district office (its person id is the district, docs/DESIGN.md)


def build_neighbour_school(
    seed: int = 2027, *, today: dt.date = DEFAULT_TODAY, lessons_until: dt.date | None = None
) -> DemoSchool:
    """МБОУ "Озёрная ООШ": five classes of 3–5 pupils, three teachers, core subjects only, the
    autumn written by the same term generator as the main demo school."""
    rng = random.Random(seed)
    until = min(lessons_until or today - dt.timedelta(days=1), YEAR.ends)
    year_id = NEIGHBOUR_YEAR_ID
    year = msgspec.structs.replace(YEAR, id=year_id, school_id=NEIGHBOUR.id)
    periods = tuple(
        msgspec.structs.replace(p, id=p.id.replace(YEAR_ID, year_id, 1), year_id=year_id)
        for p in PERIODS
    )
    classes = tuple(
        SchoolClass(id=f"{year_id}-{g}", year_id=year_id, grade=g) for g in range(5, 10)
    )
    staff, teaching, class_teachers = [], [], []
    for line in NEIGHBOUR_STAFF:
        name, roles, taught, own = (part.strip() for part in line.split("|"))
        last, first, patr = name.split()
        person = Staff(
            id=f"oz-t-{translit(last)}", last_name=last, first_name=first, patronymic=patr,
            roles=tuple(Role(r) for r in roles.split()),
        )  # fmt: skip
        staff.append(person)
        for item in taught.split():
            subjects, _, grades = item.partition(":")
            low, _, high = grades.partition("-")
            teaching += [
                TeachingAssignment(teacher_id=person.id, class_id=f"{year_id}-{g}", subject_id=s)
                for g in range(int(low), int(high) + 1)
                for s in subjects.split(",")
            ]
        class_teachers.append(ClassTeacher(teacher_id=person.id, class_id=f"{year_id}-{own}"))
    students, memberships, parents, links = [], [], [], []
    surnames = iter(rng.sample(SURNAMES, 25))
    for school_class in classes:
        for _ in range(rng.randint(3, 5)):
            surname, female = next(surnames), rng.random() < 0.5
            last = female_surname(surname) if female else surname
            first = rng.choice(GIRLS if female else BOYS)
            father = rng.choice(FATHERS)
            born = D(2019 - school_class.grade, 9, 1) + dt.timedelta(days=rng.randrange(365))
            kid = Student(
                id=f"oz-s-{translit(last)}-{translit(first)}", last_name=last, first_name=first,
                patronymic=patronymic(father, female),
                birth_date=born,
            )  # fmt: skip
            mother = rng.choice(MOTHERS)
            parent = Parent(
                id=f"oz-p-{translit(female_surname(surname))}-{translit(mother)}",
                last_name=female_surname(surname), first_name=mother,
                patronymic=patronymic(rng.choice(FATHERS), True),
            )  # fmt: skip
            students.append(kid)
            parents.append(parent)
            links.append(ParentLink(parent_id=parent.id, student_id=kid.id))
            memberships.append(
                Membership(student_id=kid.id, class_id=school_class.id, starts=YEAR.starts)
            )
    taught = {t.subject_id for t in teaching}
    directory = Directory(
        school=NEIGHBOUR, year=year, periods=periods, classes=classes,
        subjects=tuple(Subject(id=s, name=SUBJECTS[s]) for s in SUBJECTS if s in taught),
        students=tuple(students), memberships=tuple(memberships), staff=tuple(staff),
        teaching=tuple(teaching), class_teachers=tuple(class_teachers),
        journals=tuple(
            JournalInfo(id=journal_id(year_id, t.class_id, t.subject_id), year_id=year_id,
                        class_id=t.class_id, subject_id=t.subject_id)
            for t in teaching
        ),
    )  # fmt: skip
    term = _Term(rng, directory, max(until, today - dt.timedelta(days=1)), prefix="demo-oz")
    timetables = {
        c.id: [[s for s in day if s in taught] for day in _timetable(rng, c.grade)] for c in classes
    }
    for day in school_days(YEAR.starts, until):
        for school_class in classes:
            term.record_day(school_class, day, timetables[school_class.id][day.weekday()])
    current = term.corrections()
    q1_last = school_days(Q1.starts, Q1.ends)[-1]
    if until >= q1_last:
        term.quarter_marks(current, q1_last)
    accounts = (
        *_accounts(directory, parents, suffix=".oz"),
        Account(
            login=DISTRICT_LOGIN,
            password=PASSWORDS["district"],
            role=Role.DISTRICT,
            person_id=SCHOOL.district,
        ),
    )
    return DemoSchool(directory, tuple(parents), tuple(links), accounts, term.events())


def write_csv_exports(school: DemoSchool, folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """students.csv (the pupils who have not left) and staff.csv, as Excel saves them."""
    directory, folder = school.directory, pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    class_name = {c.id: c.name for c in directory.classes}
    subject_name = {s.id: s.name for s in directory.subjects}
    students = [["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]]
    for m in directory.memberships:
        if m.ends is None:
            s = next(s for s in directory.students if s.id == m.student_id)
            born = s.birth_date.strftime("%d.%m.%Y") if s.birth_date else ""
            students.append([s.last_name, s.first_name, s.patronymic, born, class_name[m.class_id]])
    students[1:] = sorted(students[1:], key=lambda row: (int(row[4]), row[:3]))
    staff = [["Фамилия", "Имя", "Отчество", "Должность", "Предметы и классы"]]
    for person in directory.staff:
        taught: dict[str, list[str]] = {}
        for t in directory.teaching:
            if t.teacher_id == person.id:
                taught.setdefault(subject_name[t.subject_id], []).append(class_name[t.class_id])
        position = ", ".join(POSITIONS[r] for r in person.roles)
        subjects = "; ".join(f"{name}: {', '.join(grades)}" for name, grades in taught.items())
        staff.append([person.last_name, person.first_name, person.patronymic, position, subjects])
    paths = {"students": folder / "students.csv", "staff": folder / "staff.csv"}
    for key, rows in (("students", students), ("staff", staff)):
        with paths[key].open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f, delimiter=";").writerows(rows)
    return paths
